//go:build !fetchdata

package data

import (
	"embed"
	"fmt"
	"io/fs"
)

// defaultFS holds the embedded default dataset.
//
//go:embed default/*.gz default/LICENSE default/README.md
var defaultFS embed.FS

// embeddedDefault is defaultFS rooted at default/.
func embeddedDefault() (fs.FS, error) {
	sub, err := fs.Sub(defaultFS, "default")
	if err != nil {
		return nil, fmt.Errorf("embedded default dataset: %w", err)
	}
	return sub, nil
}
