// Flat indices in grids of more than 65535 workgroups, which the host spreads over two dimensions
// (grid1D and grid2D in core/backend/gpu/scratch.go). Workgroups past the end exist and must return.

// group_index is the flat number of the workgroup.
fn group_index(wid: vec3<u32>, nw: vec3<u32>) -> u32 { return wid.x + wid.y * nw.x; }

// flat_index is the flat number of the invocation in a kernel of WG-wide one-dimensional workgroups.
fn flat_index(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * WG; }
