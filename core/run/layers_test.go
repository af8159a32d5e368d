package run

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layer ranks the project's packages as docs/ARCHITECTURE.md draws them; a package may import only
// packages of a lower rank, so data and calls flow from the front ends down to the backends.
var layer = map[string]int{
	"core/rng": 0, "core/internal/par": 0,
	"core/data": 1, "core/augment": 1, "core/nn": 1, "core/optim": 1, "core/eval": 1,
	"core/objective": 2,
	"core/mcmc":      3,
	"core/backend":   4, "core/backend/cpu": 5, "core/backend/gpu": 5, "core/model": 5,
	"core/train":   6,
	"core/run":     7,
	"core/session": 8, "core/experiment": 8,
	"core/teach": 9, // the teaching page's Go side: toy worlds, and a live run shown through session's chain report
	"web":        9, // the page's files and their server
	"wasm":       10, "native": 10,
}

const module = "github.com/emc2ml/emc2/"

// TestLayersImportDownward parses every non-test Go file of the packages above and checks their
// imports against the ranks: nothing below core/run knows about runs, sessions or front ends.
func TestLayersImportDownward(t *testing.T) {
	root := filepath.Join("..", "..")
	for pkg, rank := range layer {
		entries, err := os.ReadDir(filepath.Join(root, pkg))
		require.NoError(t, err, pkg)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, pkg, name), nil, parser.ImportsOnly)
			require.NoError(t, err)
			for _, imp := range f.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				dep, ok := strings.CutPrefix(path, module)
				if !ok {
					continue
				}
				depRank, known := layer[dep]
				if !known {
					continue // internal helpers of a package (e.g. core/data/internal/...)
				}
				assert.Less(t, depRank, rank, "%s/%s imports %s, which is not below it", pkg, name, dep)
			}
		}
	}
}
