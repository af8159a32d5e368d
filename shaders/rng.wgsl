// Philox4x32-10, bit-identical to core/rng/philox.go. WGSL has no 32×32→64-bit multiply, so the
// high word is rebuilt from 16-bit halves.

fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a_lo = a & 0xffffu; let a_hi = a >> 16u;
  let b_lo = b & 0xffffu; let b_hi = b >> 16u;
  let ll = a_lo * b_lo;
  let lh = a_lo * b_hi;
  let hl = a_hi * b_lo;
  let hh = a_hi * b_hi;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}

fn philox(ctr_in: vec4<u32>, key_in: vec2<u32>) -> vec4<u32> {
  var c = ctr_in;
  var k = key_in;
  for (var r = 0u; r < 10u; r++) {
    let p0 = mulhilo(0xD2511F53u, c.x);
    let p1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

// rng_bits is rng.Key.Bits(stream, step, index, draw).
fn rng_bits(key: vec2<u32>, stream: u32, step: u32, index: u32, draw: u32) -> vec4<u32> {
  return philox(vec4<u32>(draw, index, step, stream), key);
}

// to_unit is rng.ToUnit: exact, [0, 1).
fn to_unit(u: u32) -> f32 { return f32(u >> 8u) * (1.0 / 16777216.0); }

// to_unit_open is rng.ToUnitOpen: exact, (0, 1].
fn to_unit_open(u: u32) -> f32 { return f32((u >> 8u) + 1u) * (1.0 / 16777216.0); }

// normal4 is rng.Normal4 (Irwin–Hall of four uniforms).
fn normal4(b: vec4<u32>) -> f32 {
  let s = (to_unit(b.x) + to_unit(b.y)) + (to_unit(b.z) + to_unit(b.w));
  return (s - 2.0) * 1.7320508;
}
