// The geometry of a batch, the twin of objective.Shape (core/objective/objective.go): b images give
// 2b anchor rows (view 1 of every image, then view 2), and the first 2b columns of S and Ω are the
// same views.

// pos is Shape.Pos: the column of anchor r's positive partner.
fn pos(r: u32, b: u32) -> u32 { return (r + b) % (2u * b); }

// masked is Shape.Masked: in-batch column c is one of anchor r's own views (itself or its positive).
fn masked(r: u32, c: u32, b: u32) -> bool { return c < 2u * b && c % b == r % b; }
