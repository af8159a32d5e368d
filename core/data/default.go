package data

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
)

//go:generate go run ./internal/mkdefault -out default

// The default dataset's files (default/*.gz, LICENSE, README.md; see default/README.md for how they
// were made) are embedded in the binary (default_embed.go), except in a build with the tag
// fetchdata (default_fetch.go): the browser engine is built so, to keep 3.4 MB of already
// compressed data out of the wasm, and its worker fetches the files from the server (which serves
// DefaultFiles) and installs them with SetDefaultFiles.

// DefaultName is the Name of the datasets Default returns.
const DefaultName = "fashion-mnist-default"

// fashionMNISTClasses are the Fashion-MNIST class names, indexed by label.
var fashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
	"Sneaker", "Bag", "Ankle boot"}

// errNotFetched is DefaultFiles' error in a fetchdata build before SetDefaultFiles.
var errNotFetched = errors.New("the built-in data has not been fetched (this engine was built without it, " +
	"with -tags fetchdata, and the page's worker has not handed it data/default/ from the server; " +
	"reload the page, and check that emc2 serve is running)")

var installed struct {
	sync.Mutex
	fsys fs.FS
}

// SetDefaultFiles installs the files Default and DefaultLicense read, in place of the embedded ones:
// train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
// t10k-labels-idx1-ubyte.gz (each also accepted inflated, without .gz: the page's worker inflates
// them as they arrive) and LICENSE at the root of fsys. A fetchdata build has no others.
func SetDefaultFiles(fsys fs.FS) {
	installed.Lock()
	defer installed.Unlock()
	installed.fsys = fsys
}

// DefaultFiles returns the default dataset's files, named as SetDefaultFiles describes: those
// installed by SetDefaultFiles, else the embedded ones (an error in a fetchdata build).
func DefaultFiles() (fs.FS, error) {
	installed.Lock()
	fsys := installed.fsys
	installed.Unlock()
	if fsys != nil {
		return fsys, nil
	}
	return embeddedDefault()
}

// Default returns the default dataset (from DefaultFiles): a class-balanced subset of Fashion-MNIST
// made of the first 600 training images of each class (6000 images, 28x28x1) and the first 200 test
// images of each class (2000 images), in their original order. Each call returns fresh copies.
func Default() (*Split, error) {
	fsys, err := DefaultFiles()
	if err != nil {
		return nil, fmt.Errorf("default dataset: %w", err)
	}
	s, err := LoadIDXDir(fsys, ".", DefaultName)
	if err != nil {
		return nil, fmt.Errorf("default dataset: %w", err)
	}
	if s.Test == nil {
		return nil, fmt.Errorf("default dataset: test part missing")
	}
	s.Train.Classes = slices.Clone(fashionMNISTClasses)
	s.Test.Classes = slices.Clone(fashionMNISTClasses)
	return s, nil
}

// DefaultLicense returns the licence of the default dataset (MIT, Zalando SE), which must accompany
// copies of it.
func DefaultLicense() string {
	if fsys, err := DefaultFiles(); err == nil {
		if b, err := fs.ReadFile(fsys, "LICENSE"); err == nil {
			return string(b)
		}
	}
	return "Fashion-MNIST: Copyright (c) 2017 Zalando SE, MIT License"
}
