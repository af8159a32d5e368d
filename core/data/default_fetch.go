//go:build fetchdata

package data

import "io/fs"

// embeddedDefault: a fetchdata build embeds no data; SetDefaultFiles must install it.
func embeddedDefault() (fs.FS, error) { return nil, errNotFetched }
