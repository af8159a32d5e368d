// Philox4x32-10, bit-identical to core/rng/philox.go (rng.Key.Bits and the float conversions). WGSL has
// no 32×32→64-bit multiply, so the high word is rebuilt from 16-bit halves.

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

// normal4 is rng.Normal4 (Irwin–Hall of four uniforms), bit for bit. The float expression
// ((u0 + u1) + (u2 + u3) − 2)·√3 is not safe to write as such: WGSL lets the compiler reassociate it
// (on lavapipe the plain expression came out up to a few ulp off Go's), with no way to forbid that. So the three
// additions and the subtraction are done on the uniforms' integer numerators (units of 2⁻²⁴), with the
// float32 round-to-nearest-even of each result emulated exactly, and only the final product is a
// float operation (one correctly rounded multiply).
fn round_ulp(x: u32, e: u32) -> u32 {
  // x rounded to a multiple of 2^e (e ≥ 1), ties to even
  let half = 1u << (e - 1u);
  let rem = x & ((1u << e) - 1u);
  var r = x - rem;
  if (rem > half || (rem == half && ((r >> e) & 1u) == 1u)) { r = r + (1u << e); }
  return r;
}

// fl24 rounds a non-negative integer of at most 2^26 to 24 significant bits, as float32 does.
fn fl24(x: u32) -> u32 {
  if (x < 0x1000000u) { return x; }
  if (x < 0x2000000u) { return round_ulp(x, 1u); }
  return round_ulp(x, 2u);
}

fn normal4(b: vec4<u32>) -> f32 {
  let s = fl24(fl24((b.x >> 8u) + (b.y >> 8u)) + fl24((b.z >> 8u) + (b.w >> 8u)));
  // s − 2 in units of 2⁻²⁴, rounded as float32 (exact when s ≥ 2)
  var t: f32;
  if (s >= 0x2000000u) { t = f32(s - 0x2000000u); } else { t = -f32(fl24(0x2000000u - s)); }
  return t * bitcast<f32>(0x33ddb3d7u); // float32(1.7320508)·2⁻²⁴, exact
}
