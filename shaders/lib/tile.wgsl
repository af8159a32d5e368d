// The workgroup-memory half of the tiled matrix products (gemm_tiled, conv3x3*_tiled): a workgroup of
// 8×8 invocations stages a 32×32 block of each operand, and invocation t multiplies its 4×4 share.
// As[q·32 + i] is the left operand at row i of the tile and reduction index q of the block, Bs[q·32 + j]
// the right one at column j; both are zero past the edges (a zero product leaves a sum's bits unchanged).
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;

// tile_product adds As·Bs to invocation t's 4×4 block (rows (t / 8)·4.., columns (t % 8)·4..), q
// ascending with fma: the order of the register-blocked kernels, so the two give the same bits.
fn tile_product(t: u32, acc: ptr<function, array<vec4<f32>, 4>>) {
  let ly = (t / 8u) * 4u;
  let lx = (t % 8u) * 4u;
  for (var q = 0u; q < 32u; q++) {
    let o = q * 32u;
    let b = vec4<f32>(Bs[o + lx], Bs[o + lx + 1u], Bs[o + lx + 2u], Bs[o + lx + 3u]);
    for (var r = 0u; r < 4u; r++) { (*acc)[r] = fma(vec4<f32>(As[o + ly + r]), b, (*acc)[r]); }
  }
}
