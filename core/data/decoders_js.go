//go:build js

package data

// imageDecoders: the browser build leaves Go's PNG, JPEG and GIF decoders out (about 280 KB of
// wasm). Its worker decodes images with the browser's own decoders and hands LoadFolder the raw
// format (RawMagic); the files it passes on as they are, the browser could not decode, so Go's
// decoders would only have named the failure.
const imageDecoders = false
