// Fixed-order tree reductions over a workgroup. Float atomics do not exist in WGSL and a CAS loop
// adds in arrival order, so every reduction in these kernels is a pairwise tree in workgroup memory:
// the order of the additions is fixed and results repeat bit for bit on one device.
//
// n is the workgroup size (a power of two, at most 128, WebGPU's compatibility-mode limit) and lid
// the invocation's local index. The functions contain barriers: every invocation of the workgroup
// must call them, from uniform control flow (Chrome's compiler rejects anything else).

var<workgroup> red: array<f32, 128>;

// tree_sum returns the sum of v over the workgroup.
fn tree_sum(v: f32, lid: u32, n: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = n / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier(); // everyone has read red[0] before red is reused
  return total;
}

// tree_max returns the maximum of v over the workgroup.
fn tree_max(v: f32, lid: u32, n: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = n / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let m = red[0];
  workgroupBarrier();
  return m;
}
