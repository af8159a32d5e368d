// Random views of contrastive learning, the GPU twin of augment.Apply (core/augment/augment.go), as
// run by the CPU backend's Augment (core/backend/cpu/cpu.go). The parameters of each view are drawn
// by lib/augment_draw.wgsl, the twin of augment.Draw.
//
// augment_views: one workgroup of WG invocations per view. View r reads image rows[r] from the packed
// image buffer (uint8 pixels, four to a little-endian word) and uses the random counters
// (StreamAugment / StreamNoise, step, base + r). Every invocation draws the view's parameters itself
// (a pure function of the uniforms and the workgroup id, so the uniformity analysis sees them as
// uniform and the barriers below may depend on them). Phases: crop + resize + flip (+ brightness),
// the view's mean (a fixed tree in workgroup memory), the per-pixel jitter, grayscale and noise, and
// the separable blur through the scratch buffer (storage barriers between the passes).
//!include lib/augment_draw
//!include lib/grid
//!include lib/reduce

@group(0) @binding(1) var<storage, read_write> images: array<u32>;
@group(0) @binding(2) var<storage, read_write> rows: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<storage, read_write> scratch: array<f32>;

// Split is augment.floorSplit: the clamped integer part and the weight toward the next pixel.
struct Split { i: u32, w: f32 }

fn floor_split(f: f32, n: u32) -> Split {
  if (f <= 0.0) { return Split(0u, 0.0); }
  let i = u32(f);
  if (i >= n - 1u) { return Split(n - 1u, 0.0); }
  return Split(i, f - f32(i));
}

// pixel returns byte `idx` of the packed image buffer.
fn pixel(idx: u32) -> f32 {
  return f32((images[idx >> 2u] >> ((idx & 3u) * 8u)) & 0xffu);
}

fn luma(px: vec3<f32>) -> f32 { return 0.299 * px.x + 0.587 * px.y + 0.114 * px.z; }

// hue_rotate is augment.hueRotate (YIQ rotation).
fn hue_rotate(px: vec3<f32>, cs: f32, sn: f32) -> vec3<f32> {
  let y = 0.299 * px.x + 0.587 * px.y + 0.114 * px.z;
  let i0 = 0.596 * px.x - 0.274 * px.y - 0.322 * px.z;
  let q0 = 0.211 * px.x - 0.523 * px.y + 0.312 * px.z;
  let i = i0 * cs - q0 * sn;
  let q = i0 * sn + q0 * cs;
  return clamp(vec3<f32>(y + 0.956 * i + 0.621 * q, y - 0.272 * i - 0.647 * q, y - 1.106 * i + 1.703 * q),
               vec3<f32>(0.0), vec3<f32>(1.0));
}

fn add_noise(v: f32, id: u32, e: u32) -> f32 {
  let z = normal4(rng_bits(vec2<u32>(p.key0, p.key1), STREAM_NOISE, p.step, id, e));
  return clamp(v + p.noise_std * z, 0.0, 1.0);
}

@compute @workgroup_size(WG)
fn augment_views(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>,
                 @builtin(num_workgroups) nw: vec3<u32>) {
  let r = group_index(wid, nw);
  if (r >= p.rows) { return; }
  let id = p.base + r;
  let v = draw_view(id);
  let c = p.c;
  let w = p.out_w;
  let n = p.out_h * w;
  let o = n * c;
  let dbase = r * o;
  let in_w = p.in_w;
  let sbase = rows[r] * (p.in_h * in_w * c);

  // 1. crop + resize (bilinear, clamp to edge) + flip, then brightness; partial sums for the mean
  let sy = v.ch / f32(p.out_h);
  let sx = v.cw / f32(w);
  var part = 0.0;
  for (var i = lid; i < n; i += WG) {
    let oy = i / w;
    let ox = i % w;
    let fy = v.y0 + (f32(oy) + 0.5) * sy - 0.5;
    let ys = floor_split(fy, p.in_h);
    let y1 = min(ys.i + 1u, p.in_h - 1u);
    var tx = ox;
    if (v.flip) { tx = w - 1u - ox; }
    let fx = v.x0 + (f32(tx) + 0.5) * sx - 0.5;
    let xs = floor_split(fx, in_w);
    let x1 = min(xs.i + 1u, in_w - 1u);
    var px = vec3<f32>(0.0);
    for (var ch = 0u; ch < c; ch++) {
      let v00 = pixel(sbase + (ys.i * in_w + xs.i) * c + ch);
      let v01 = pixel(sbase + (ys.i * in_w + x1) * c + ch);
      let v10 = pixel(sbase + (y1 * in_w + xs.i) * c + ch);
      let v11 = pixel(sbase + (y1 * in_w + x1) * c + ch);
      let top = v00 + xs.w * (v01 - v00);
      let bot = v10 + xs.w * (v11 - v10);
      var val = (top + ys.w * (bot - top)) * (1.0 / 255.0);
      if (v.jitter) {
        val = clamp(val * v.bright, 0.0, 1.0);
        // the mean of Apply: over luma for RGB, over the first n values otherwise
        if (c != 3u && i * c + ch < n) { part += val; }
        if (c == 3u) { px[ch] = val; }
      }
      dst[dbase + i * c + ch] = val;
    }
    if (c == 3u) { part += luma(px); }
  }

  // 2. the view's mean, by a fixed tree
  var mean = 0.0;
  if (v.jitter) {
    mean = tree_sum(part, lid, WG) / f32(n);
  }

  // 3. per-pixel work on the values this invocation wrote: contrast, saturation, hue, grayscale, and
  //    the noise when there is no blur after it
  let blur = v.blur && v.sigma > 0.0;
  let noise = p.noise_std > 0.0 && !blur;
  if (c == 3u) {
    if (v.jitter || v.gray || noise) {
      let angle = 6.2831853 * v.hue;
      let cs = cos(angle);
      let sn = sin(angle);
      for (var i = lid; i < n; i += WG) {
        let e = dbase + i * 3u;
        var px = vec3<f32>(dst[e], dst[e + 1u], dst[e + 2u]);
        if (v.jitter) {
          px = clamp((px - vec3<f32>(mean)) * v.contr + vec3<f32>(mean), vec3<f32>(0.0), vec3<f32>(1.0));
          let g = luma(px);
          px = clamp((px - vec3<f32>(g)) * v.sat + vec3<f32>(g), vec3<f32>(0.0), vec3<f32>(1.0));
          if (v.hue != 0.0) { px = hue_rotate(px, cs, sn); }
        }
        if (v.gray) { px = vec3<f32>(luma(px)); }
        if (noise) {
          px.x = add_noise(px.x, id, i * 3u);
          px.y = add_noise(px.y, id, i * 3u + 1u);
          px.z = add_noise(px.z, id, i * 3u + 2u);
        }
        dst[e] = px.x;
        dst[e + 1u] = px.y;
        dst[e + 2u] = px.z;
      }
    }
  } else if (v.jitter || noise) {
    for (var i = lid; i < n; i += WG) {
      for (var ch = 0u; ch < c; ch++) {
        let k = i * c + ch;
        var val = dst[dbase + k];
        if (v.jitter) { val = clamp((val - mean) * v.contr + mean, 0.0, 1.0); }
        if (noise) { val = add_noise(val, id, k); }
        dst[dbase + k] = val;
      }
    }
  }

  // 4. Gaussian blur, separable, clamp to edge (augment.blur), then the noise
  if (blur) {
    var taps: array<f32, BLUR_TAPS>;
    let rad = min(MAX_BLUR_RADIUS, i32(ceil(2.0 * v.sigma)));
    var sum = 0.0;
    for (var t = -rad; t <= rad; t++) {
      let e = exp(-f32(t * t) / (2.0 * v.sigma * v.sigma));
      taps[t + rad] = e;
      sum += e;
    }
    for (var t = 0; t <= 2 * rad; t++) { taps[t] /= sum; }
    let wi = i32(w);
    let hi = i32(p.out_h);
    storageBarrier();
    for (var k = lid; k < o; k += WG) { // horizontal: dst → scratch
      let q = k / c;
      let ch = k % c;
      let y = q / w;
      let x = i32(q % w);
      var s = 0.0;
      for (var t = -rad; t <= rad; t++) {
        let xx = u32(clamp(x + t, 0, wi - 1));
        s += taps[t + rad] * dst[dbase + (y * w + xx) * c + ch];
      }
      scratch[dbase + k] = s;
    }
    storageBarrier();
    for (var k = lid; k < o; k += WG) { // vertical: scratch → dst
      let q = k / c;
      let ch = k % c;
      let y = i32(q / w);
      let x = q % w;
      var s = 0.0;
      for (var t = -rad; t <= rad; t++) {
        let yy = u32(clamp(y + t, 0, hi - 1));
        s += taps[t + rad] * scratch[dbase + (yy * w + x) * c + ch];
      }
      if (p.noise_std > 0.0) { s = add_noise(s, id, k); }
      dst[dbase + k] = s;
    }
  }
}
