//go:build !js

package data

import (
	_ "image/gif"  // register the GIF decoder
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
)

// imageDecoders: LoadFolder decodes PNG, JPEG and GIF itself (see decoders_js.go for the browser).
const imageDecoders = true
