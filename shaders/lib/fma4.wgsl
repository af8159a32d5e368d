// The step of the _v4 matrix-product kernels (conv.wgsl, gemm.wgsl), which read four values of the
// reduction index per vector load: acc plus x[0]·w[0] + … + x[3]·w[3], one fma at a time in that
// order — the order of the scalar loop they replace, so the bits are the same.
fn fma4(x: vec4<f32>, w: mat4x4<f32>, acc: vec4<f32>) -> vec4<f32> {
  return fma(vec4<f32>(x.w), w[3], fma(vec4<f32>(x.z), w[2], fma(vec4<f32>(x.y), w[1], fma(vec4<f32>(x.x), w[0], acc))));
}
