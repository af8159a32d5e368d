// Test kernel for the shared generator (shaders/lib/rng.wgsl): the GPU twin of rng.Key.Bits,
// rng.ToUnit, rng.ToUnitOpen and rng.Normal4 (core/rng/philox.go), run by rng_test.go, which compares
// every word and float with Go's bit for bit.
//!include lib/rng
//!include lib/grid

struct Params {
  n: u32,                        // counters
  key0: u32, key1: u32,
  stream: u32, step: u32,
  index0: u32, draw0: u32,
  draw_every: u32,               // counter i is (draw0 + i / draw_every, index0 + i % draw_every, step, stream)
  raw: u32,                      // 1: skip Philox, convert the 4 words already in `words` (crafted cases)
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> words: array<u32>;   // 4 per counter
@group(0) @binding(2) var<storage, read_write> floats: array<f32>;  // 12 per counter

// rng_fill: counter i writes its 4 words, their to_unit and to_unit_open values and normal4.
@compute @workgroup_size(WG)
fn rng_fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = flat_index(gid, nw);
  if (i >= p.n) { return; }
  var b: vec4<u32>;
  if (p.raw == 1u) {
    b = vec4<u32>(words[4u * i], words[4u * i + 1u], words[4u * i + 2u], words[4u * i + 3u]);
  } else {
    b = rng_bits(vec2<u32>(p.key0, p.key1), p.stream, p.step, p.index0 + i % p.draw_every, p.draw0 + i / p.draw_every);
  }
  for (var k = 0u; k < 4u; k++) {
    words[4u * i + k] = b[k];
    floats[12u * i + k] = to_unit(b[k]);
    floats[12u * i + 4u + k] = to_unit_open(b[k]);
  }
  floats[12u * i + 8u] = normal4(b);
}
