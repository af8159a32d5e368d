// Row copies by index, for EMC²'s cached sampler: the batch's embeddings go into a per-image cache,
// and the cached embeddings of the chains' states come out beside the batch's. Go twins:
// nn.GatherRows and nn.ScatterRows (core/nn/rows.go). One invocation per value.
//!include lib/grid

struct Params {
  dst_row: u32, // gather_rows: first destination row
  idx_off: u32, // gather_rows: first index used
  n: u32,       // rows copied
  d: u32,       // values per row
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Src: array<f32>;
@group(0) @binding(2) var<storage, read_write> Dst: array<f32>;
@group(0) @binding(3) var<storage, read> Idx: array<u32>;

// gather_rows: Dst[(dst_row + k)·d + c] = Src[Idx[idx_off + k]·d + c].
@compute @workgroup_size(WG)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = flat_index(gid, nw);
  if (i >= p.n * p.d) { return; }
  let k = i / p.d;
  let c = i % p.d;
  Dst[(p.dst_row + k) * p.d + c] = Src[Idx[p.idx_off + k] * p.d + c];
}

// scatter_rows: Dst[Idx[k]·d + c] = Src[k·d + c] (the indices are distinct).
@compute @workgroup_size(WG)
fn scatter_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = flat_index(gid, nw);
  if (i >= p.n * p.d) { return; }
  let k = i / p.d;
  let c = i % p.d;
  Dst[Idx[k] * p.d + c] = Src[k * p.d + c];
}
