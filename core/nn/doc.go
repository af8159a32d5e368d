// Package nn holds the encoder's layers as plain-Go reference kernels, each with an explicit
// backward pass: a 3×3 convolution (same padding, NHWC) with optional ReLU, a 2×2 max pool, a linear
// layer, and L2 normalisation, over row-major float32 slices. The CPU backend runs them as they are;
// every WGSL kernel in shaders/ is checked against them, and every backward here against finite
// differences (layers_test.go).
package nn
