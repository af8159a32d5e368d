// The uniform block of the augmentation kernels and the draw of a view's parameters, the GPU twin of
// augment.Draw (core/augment/augment.go). Shared by shaders/augment.wgsl and the draw parity test's
// kernel (core/backend/gpu/testdata/augment_draw.wgsl).
//!include lib/rng

struct Params {
  base: u32, rows: u32,
  in_h: u32, in_w: u32, c: u32,
  out_h: u32, out_w: u32,
  step: u32, key0: u32, key1: u32,
  crop: u32,                       // 1 when CropScale[1] > 0
  scale_lo: f32, scale_hi: f32,
  lr_lo: f32, lr_hi: f32,          // log of the aspect ratio range, computed on the host as Draw does
  flip_p: f32, jitter_p: f32,
  brightness: f32, contrast: f32, saturation: f32, hue: f32,
  gray_p: f32, blur_p: f32,
  sigma_lo: f32, sigma_hi: f32,
  noise_std: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

// View is augment.Params.
struct View {
  x0: f32, y0: f32, cw: f32, ch: f32,
  flip: bool, jitter: bool,
  bright: f32, contr: f32, sat: f32, hue: f32,
  gray: bool, blur: bool,
  sigma: f32,
}

fn uniform4(id: u32, draw: u32) -> vec4<f32> {
  let b = rng_bits(vec2<u32>(p.key0, p.key1), STREAM_AUGMENT, p.step, id, draw);
  return vec4<f32>(to_unit(b.x), to_unit(b.y), to_unit(b.z), to_unit(b.w));
}

// draw_view is augment.Draw.
fn draw_view(id: u32) -> View {
  let a = uniform4(id, 0u);
  let b = uniform4(id, 1u);
  let d = uniform4(id, 2u);
  var v = View(0.0, 0.0, f32(p.in_w), f32(p.in_h), false, false, 1.0, 1.0, 1.0, 0.0, false, false, 0.0);
  if (p.crop == 1u) {
    let area = f32(p.in_h * p.in_w);
    let s = p.scale_lo + a.x * (p.scale_hi - p.scale_lo);
    let lr = p.lr_lo + a.y * (p.lr_hi - p.lr_lo);
    let r = exp(lr);
    v.cw = clamp(sqrt(s * area * r), 1.0, f32(p.in_w));
    v.ch = clamp(sqrt(s * area / r), 1.0, f32(p.in_h));
    v.x0 = a.z * (f32(p.in_w) - v.cw);
    v.y0 = a.w * (f32(p.in_h) - v.ch);
  }
  v.flip = b.x < p.flip_p;
  if (b.y < p.jitter_p) {
    v.jitter = true;
    v.bright = 1.0 + p.brightness * (2.0 * b.z - 1.0);
    v.contr = 1.0 + p.contrast * (2.0 * b.w - 1.0);
    v.sat = 1.0 + p.saturation * (2.0 * d.x - 1.0);
    v.hue = p.hue * (2.0 * d.y - 1.0);
  }
  v.gray = d.z < p.gray_p;
  if (d.w < p.blur_p) {
    v.blur = true;
    let e = uniform4(id, 3u);
    v.sigma = p.sigma_lo + e.x * (p.sigma_hi - p.sigma_lo);
  }
  return v;
}
