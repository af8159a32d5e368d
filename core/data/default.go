package data

import (
	"embed"
	"fmt"
	"slices"
)

//go:generate go run ./internal/mkdefault -out default

// defaultFS holds the embedded default dataset; see default/README.md for how it was made.
//
//go:embed default/*.gz default/LICENSE default/README.md
var defaultFS embed.FS

// DefaultName is the Name of the datasets Default returns.
const DefaultName = "fashion-mnist-default"

// fashionMNISTClasses are the Fashion-MNIST class names, indexed by label.
var fashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
	"Sneaker", "Bag", "Ankle boot"}

// Default returns the dataset embedded in the binary: a class-balanced subset of Fashion-MNIST made of
// the first 600 training images of each class (6000 images, 28x28x1) and the first 200 test images of
// each class (2000 images), in their original order. Each call returns fresh copies.
func Default() (*Split, error) {
	s, err := LoadIDXDir(defaultFS, "default", DefaultName)
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
	b, err := defaultFS.ReadFile("default/LICENSE")
	if err != nil {
		return "Fashion-MNIST: Copyright (c) 2017 Zalando SE, MIT License"
	}
	return string(b)
}
