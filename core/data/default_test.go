//go:build !fetchdata

package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefault(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		d        *Dataset
		n        int
		perClass int
	}{
		{"train", s.Train, 6000, 600},
		{"test", s.Test, 2000, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NotNil(t, tc.d)
			require.NoError(t, tc.d.Validate())
			assert.Equal(t, DefaultName, tc.d.Name)
			assert.Equal(t, []int{tc.n, 28, 28, 1}, []int{tc.d.N, tc.d.H, tc.d.W, tc.d.C})
			assert.Equal(t, []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
				"Sneaker", "Bag", "Ankle boot"}, tc.d.Classes)
			assert.True(t, tc.d.Labeled())
			counts := make([]int, 10)
			for _, l := range tc.d.Labels {
				require.True(t, l >= 0 && l <= 9, "label %d", l)
				counts[l]++
			}
			for c, n := range counts {
				assert.Equal(t, tc.perClass, n, "class %d", c)
			}
			var nonzero int
			for _, v := range tc.d.Pix {
				if v != 0 {
					nonzero++
				}
			}
			assert.Greater(t, nonzero, len(tc.d.Pix)/4, "images should not be blank")
		})
	}
	// The first test images of Fashion-MNIST are an ankle boot, a pullover and two trousers; they are
	// kept in their original order.
	assert.Equal(t, []int32{9, 2, 1, 1}, s.Test.Labels[:4])

	again, err := Default()
	require.NoError(t, err)
	orig := s.Train.Pix[300]
	again.Train.Pix[300] = orig + 1
	assert.Equal(t, orig, s.Train.Pix[300], "each call returns its own copy")
}

func TestDefaultLicense(t *testing.T) {
	l := DefaultLicense()
	assert.Contains(t, l, "Copyright (c) 2017 Zalando SE")
	assert.Contains(t, l, "Permission is hereby granted, free of charge")
	assert.Contains(t, l, `THE SOFTWARE IS PROVIDED "AS IS"`)
}
