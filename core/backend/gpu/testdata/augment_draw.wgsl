// Test kernel: the GPU twin of augment.Draw on its own, run by TestAugmentDrawParity
// (augment_test.go), which compares every drawn parameter with Go's.
//!include lib/augment_draw

@group(0) @binding(1) var<storage, read_write> dst: array<f32>; // 16 values per row

// augment_draw writes the parameters of view base + r into dst[16r ..]: X0, Y0, CW, CH, Flip,
// Jitter, Bright, Contr, Sat, Hue, Gray, Blur, Sigma (booleans as 0/1), then 3 unused values.
@compute @workgroup_size(WG)
fn augment_draw(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= p.rows) { return; }
  let v = draw_view(p.base + r);
  let o = r * 16u;
  dst[o] = v.x0;
  dst[o + 1u] = v.y0;
  dst[o + 2u] = v.cw;
  dst[o + 3u] = v.ch;
  dst[o + 4u] = select(0.0, 1.0, v.flip);
  dst[o + 5u] = select(0.0, 1.0, v.jitter);
  dst[o + 6u] = v.bright;
  dst[o + 7u] = v.contr;
  dst[o + 8u] = v.sat;
  dst[o + 9u] = v.hue;
  dst[o + 10u] = select(0.0, 1.0, v.gray);
  dst[o + 11u] = select(0.0, 1.0, v.blur);
  dst[o + 12u] = v.sigma;
}
