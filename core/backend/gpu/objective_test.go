package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/emc2ml/emc2/core/backend"
	"github.com/emc2ml/emc2/core/backend/cpu"
	"github.com/emc2ml/emc2/core/mcmc"
	"github.com/emc2ml/emc2/core/objective"
	"github.com/emc2ml/emc2/core/rng"
	"github.com/stretchr/testify/require"
)

// requireElemClose checks |got − want| ≤ rel·|want| + abs element by element (the criterion for
// exp/log/softmax outputs: WGSL's exp and log are accurate to a few ulp, not correctly rounded).
func requireElemClose(t *testing.T, name string, got, want []float32, rel, abs float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), name)
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.Abs(g-w) > rel*math.Abs(w)+abs {
			require.Failf(t, "GPU differs from CPU", "%s[%d]: gpu %v, cpu %v", name, i, got[i], want[i])
		}
	}
}

// unitRows returns n random unit vectors of length d.
func unitRows(r *rand.Rand, n, d int) []float32 {
	f := randVec(r, n*d)
	for i := 0; i < n; i++ {
		var s float64
		for _, v := range f[i*d : (i+1)*d] {
			s += float64(v) * float64(v)
		}
		for j := range f[i*d : (i+1)*d] {
			f[i*d+j] = float32(float64(f[i*d+j]) / math.Sqrt(s))
		}
	}
	return f
}

// cosines returns S = F[:rows]·F[:cols]ᵀ for unit rows F, as float32.
func cosines(f []float32, rows, cols, d int) []float32 {
	s := make([]float32, rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			var acc float64
			for q := 0; q < d; q++ {
				acc += float64(f[i*d+q]) * float64(f[j*d+q])
			}
			s[i*cols+j] = float32(acc)
		}
	}
	return s
}

// TestL2NormParity checks L2Norm and L2NormBack against nn.L2Norm/L2NormBack, on rows shorter and
// longer than the 64-wide workgroup and with an all-zero row (the NormEps floor).
func TestL2NormParity(t *testing.T) {
	c, g := backends(t)
	for _, s := range []struct{ rows, d int }{{3, 1}, {8, 16}, {64, 128}, {5, 300}} {
		t.Run(fmt.Sprintf("%dx%d", s.rows, s.d), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(s.rows), uint64(s.d)))
			x := randVec(r, s.rows*s.d)
			clear(x[s.d : 2*s.d]) // row 1 is zero
			xc, xg := pair(c, g, x)
			yc, yg := c.Alloc(s.rows*s.d), g.Alloc(s.rows*s.d)
			nc, ng := c.Alloc(s.rows), g.Alloc(s.rows)
			c.L2Norm(yc, nc, xc, s.rows, s.d)
			g.L2Norm(yg, ng, xg, s.rows, s.d)
			requireClose(t, "norm", read(t, g, ng), read(t, c, nc), 1e-5, 1e-5)
			requireClose(t, "y", read(t, g, yg), read(t, c, yc), 1e-5, 1e-5)
			require.Equal(t, float32(1e-6), read(t, g, ng)[1], "zero row: norm floored at NormEps")

			dyc, dyg := pair(c, g, randVec(r, s.rows*s.d))
			dxc, dxg := c.Alloc(s.rows*s.d), g.Alloc(s.rows*s.d)
			c.L2NormBack(dxc, dyc, yc, nc, s.rows, s.d)
			g.L2NormBack(dxg, dyg, yg, ng, s.rows, s.d)
			requireClose(t, "dx", read(t, g, dxg), read(t, c, dxc), 1e-5, 1e-5)
		})
	}
}

// checkWeights compares Ω elementwise (|g−r| ≤ 1e-5·|r| + 1e-6) and the statistics: the loss to
// 1e-5 relative, the others exactly.
func checkWeights(t *testing.T, label string, c *cpu.Backend, g *Backend, oc, og, sc, sg backend.Buf) {
	t.Helper()
	requireElemClose(t, "omega"+label, read(t, g, og), read(t, c, oc), 1e-5, 1e-6)
	gs, cs := read(t, g, sg), read(t, c, sc)
	require.InEpsilon(t, cs[objective.StatLoss], gs[objective.StatLoss], 1e-5, "loss"+label)
	require.Equal(t, cs[1:], gs[1:], "statistics other than the loss"+label)
}

// TestSimCLRWeightsParity checks objective.SimCLRWeights' twin.
func TestSimCLRWeightsParity(t *testing.T) {
	c, g := backends(t)
	for _, B := range []int{4, 32} {
		for _, beta := range []float32{14.28, 5} {
			t.Run(fmt.Sprintf("B=%d beta=%v", B, beta), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(B), 7))
				p := objective.Shape{B: B, Cols: 2 * B, Beta: beta}
				s := cosines(unitRows(r, 2*B, 16), 2*B, 2*B, 16)
				sc, sg := pair(c, g, s)
				oc, og := pair(c, g, randVec(r, 2*B*p.Cols)) // stale contents must be overwritten
				stc, stg := pair(c, g, randVec(r, objective.NumStats))
				c.SimCLRWeights(oc, stc, sc, p)
				g.SimCLRWeights(og, stg, sg, p)
				checkWeights(t, "", c, g, oc, og, stc, stg)

				// GPU run to run: bitwise identical (fixed reduction trees, no atomics).
				og2, stg2 := g.Alloc(2*B*p.Cols), g.Alloc(objective.NumStats)
				g.SimCLRWeights(og2, stg2, sg, p)
				require.Equal(t, read(t, g, og), read(t, g, og2), "Ω, second GPU run")
				require.Equal(t, read(t, g, stg), read(t, g, stg2), "stats, second GPU run")
			})
		}
	}
}

// TestSogCLRWeightsParity checks objective.SogCLRWeights' twin over two consecutive calls: the first
// visits only unset images (γ = 1 rule), the second half revisits them, so the moving average of
// log u carried in logU is exercised.
func TestSogCLRWeightsParity(t *testing.T) {
	c, g := backends(t)
	for _, B := range []int{4, 32} {
		for _, beta := range []float32{14.28, 5} {
			for _, gamma := range []float32{0.9, 1} {
				t.Run(fmt.Sprintf("B=%d beta=%v gamma=%v", B, beta, gamma), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(B), 11))
					n := 2 * B
					p := objective.SogCLRParams{Shape: objective.Shape{B: B, Cols: 2 * B, Beta: beta}, Gamma: gamma}
					lu := make([]float32, n)
					for i := range lu {
						lu[i] = objective.Unvisited
					}
					luc, lug := pair(c, g, lu)
					perm := r.Perm(n)
					batch1 := make([]uint32, B)
					for k := range batch1 {
						batch1[k] = uint32(perm[k])
					}
					batch2 := append([]uint32(nil), batch1[B/2:]...)
					for k := B; len(batch2) < B; k++ {
						batch2 = append(batch2, uint32(perm[k]))
					}
					for call, batch := range [][]uint32{batch1, batch2} {
						s := cosines(unitRows(r, 2*B, 16), 2*B, 2*B, 16)
						sc, sg := pair(c, g, s)
						bc, bg := pairU32(c, g, batch)
						oc, og := pair(c, g, randVec(r, 2*B*p.Cols))
						stc, stg := pair(c, g, randVec(r, objective.NumStats))
						c.SogCLRWeights(oc, stc, sc, luc, bc, p)
						g.SogCLRWeights(og, stg, sg, lug, bg, p)
						t.Logf("call %d", call)
						checkWeights(t, "", c, g, oc, og, stc, stg)
						requireElemClose(t, "logU", read(t, g, lug), read(t, c, luc), 1e-5, 1e-6)
					}
				})
			}
		}
	}
}

// mhRobust replays the decisions of mcmc.Sweep from the same chain state and reports how many are
// borderline: decided by a difference below eps = 1e-5·max(1, |d|) between log u and d = q − score
// (or between d and 0). WGSL's log and a fused q − score may legally differ from Go's by a few ULP,
// so such a decision could flip; the test regenerates its data instead of loosening the check.
func mhRobust(s []float32, chainIdx []uint32, chainScore []float32, batch []uint32, p mcmc.Params) (borderline int) {
	b, cols := p.B, p.Cols
	for k := 0; k < b; k++ {
		i := batch[k]
		col, score := -1, chainScore[i]
		if p.Variant.Rescores() {
			col, score = -1, objective.Unvisited
			if chainIdx[i] != mcmc.NoState {
				col = 2*b + k
				score = p.Beta * s[k*cols+col]
			}
		}
		for v := 0; v < 2; v++ {
			r := v*b + k
			if p.Variant.Rescores() && v == 1 && col >= 0 {
				score = p.Beta * s[r*cols+col]
			}
			for j := 0; j < 2*b; j++ {
				u, c := mcmc.Draw(p.Key, p.Step, k, v, j, b)
				if p.Variant != mcmc.IID {
					c = j
				}
				if p.Masked(r, c) {
					continue
				}
				q := p.Beta * s[r*cols+c]
				d, lu := float64(q-score), math.Log(float64(u))
				eps := 1e-5 * math.Max(1, math.Abs(d))
				if (d >= 0 && d <= eps && lu >= -eps) || (d < 0 && math.Abs(lu-d) <= eps) {
					borderline++
				}
				if mcmc.Accept(q, score, u) {
					col, score = c, q
				}
			}
		}
	}
	return borderline
}

// TestMHSweepParity: MH decisions identical to the CPU chain, decision by decision, for the same
// seed, with both sweep kernels (one invocation per chain, one workgroup per chain). Several
// consecutive sweeps (steps) over overlapping batches carry the chains; after each, chainIdx and Ω
// must be exactly equal (records are counts/M, summed in the same order), the MH
// counts exactly equal, chainScore and the loss within 1e-5 relative. Similarities are multiples of
// 1/64; data whose replayed decisions include a borderline one (see mhRobust) is redrawn and logged.
func TestMHSweepParity(t *testing.T) {
	c, g := backends(t)
	// B = 40: a view's 80 proposals come in two chunks of the workgroup's 64, the second partial.
	for _, B := range []int{4, 32, 40} {
		for _, v := range []mcmc.Variant{mcmc.Paper, mcmc.Fresh, mcmc.IID} {
			for _, burn := range []float64{0.5, 0} {
				for _, beta := range []float32{14.28, 5} {
					name := fmt.Sprintf("B=%d %v burn=%v beta=%v", B, v, burn, beta)
					t.Run(name, func(t *testing.T) {
						defer g.SetTiled(g.Tiled())
						for _, staged := range []bool{false, true} { // mh_sweep, mh_sweep_staged
							g.SetTiled(staged)
							mhParity(t, c, g, B, v, burn, beta)
						}
					})
				}
			}
		}
	}
}

func mhParity(t *testing.T, c *cpu.Backend, g *Backend, B int, v mcmc.Variant, burn float64, beta float32) {
	r := rand.New(rand.NewPCG(uint64(B), uint64(v)*2+uint64(burn*2)))
	n := 3 * B
	cols := 2 * B
	if v.Rescores() {
		cols = 3 * B
	}
	p := mcmc.Params{Shape: objective.Shape{B: B, Cols: cols, Beta: beta}, BurnIn: burn, Variant: v, Key: rng.NewKey(0x5eed + uint64(B))}
	idx, score := make([]uint32, n), make([]float32, n)
	for i := range idx {
		idx[i], score[i] = mcmc.NoState, objective.Unvisited
	}
	ic, ig := pairU32(c, g, idx)
	scc, scg := pair(c, g, score)
	redrawn, accepted := 0, 0.0
	for step := range 6 {
		p.Step = uint32(100 + step)
		perm := r.Perm(n)
		batch := make([]uint32, B)
		for k := range batch {
			batch[k] = uint32(perm[k])
		}
		bc, bg := pairU32(c, g, batch)
		if v.Rescores() {
			rows := make([]uint32, 3*B)
			for k := range rows[:2*B] {
				rows[k] = batch[k%B]
			}
			rc, rg := pairU32(c, g, rows)
			c.ChainRows(rc, ic, bc, B)
			g.ChainRows(rg, ig, bg, B)
			require.Equal(t, readU32(t, c, rc), readU32(t, g, rg), "ChainRows, step %d", step)
		}
		cIdx, cScore := readU32(t, c, ic), read(t, c, scc)
		var s []float32
		for {
			s = make([]float32, 2*B*cols)
			for q := range s {
				s[q] = float32(r.IntN(129)-64) / 64
			}
			if mhRobust(s, cIdx, cScore, batch, p) == 0 {
				break
			}
			redrawn++
		}
		sc, sg := pair(c, g, s)
		oc, og := pair(c, g, randVec(r, 2*B*cols)) // stale contents must be overwritten
		stc, stg := pair(c, g, randVec(r, objective.NumStats))
		c.MHSweep(oc, stc, sc, ic, scc, bc, p)
		g.MHSweep(og, stg, sg, ig, scg, bg, p)

		require.Equal(t, readU32(t, c, ic), readU32(t, g, ig), "chainIdx, step %d", step)
		require.Equal(t, read(t, c, oc), read(t, g, og), "Ω, step %d", step)
		requireElemClose(t, "chainScore", read(t, g, scg), read(t, c, scc), 1e-5, 0)
		gs, cs := read(t, g, stg), read(t, c, stc)
		require.Equal(t, cs[1:], gs[1:], "MH counts, step %d", step)
		require.InEpsilon(t, cs[objective.StatLoss], gs[objective.StatLoss], 1e-5, "loss, step %d", step)
		accepted += float64(cs[objective.StatAccepted] / cs[objective.StatProposals])
	}
	t.Logf("mean acceptance %.3f; %d borderline data sets redrawn", accepted/6, redrawn)
}

// BenchmarkMHSweep times one EMC² sweep (Ω, chain update, statistics) per op, submitted each op as in
// a training step, at β = 14.28, burn-in 0.5, paper variant: both GPU kernels (mh_sweep, one
// invocation per chain; mh_sweep_staged, one workgroup per chain), and the CPU reference alongside.
func BenchmarkMHSweep(b *testing.B) {
	sharedOnce.Do(func() { shared, sharedErr = New() })
	if sharedErr != nil {
		b.Skipf("SKIPPED: %v", sharedErr)
	}
	defer shared.SetTiled(shared.Tiled())
	for _, B := range []int{32, 256} {
		for _, k := range []struct {
			name   string
			be     backend.Backend
			staged bool
		}{{"gpu-per-chain", shared, false}, {"gpu-staged", shared, true}, {"cpu", cpu.New(), false}} {
			be := k.be
			b.Run(fmt.Sprintf("%s/B=%d", k.name, B), func(b *testing.B) {
				shared.SetTiled(k.staged)
				r := rand.New(rand.NewPCG(1, uint64(B)))
				n := 4 * B
				p := mcmc.Params{Shape: objective.Shape{B: B, Cols: 2 * B, Beta: 14.28}, BurnIn: 0.5, Key: rng.NewKey(3)}
				s := be.Alloc(4 * B * B)
				be.Write(s, cosines(unitRows(r, 2*B, 32), 2*B, 2*B, 32))
				omega, stats := be.Alloc(4*B*B), be.Alloc(objective.NumStats)
				idx, score := make([]uint32, n), make([]float32, n)
				for i := range idx {
					idx[i], score[i] = mcmc.NoState, objective.Unvisited
				}
				ib, sb := be.AllocU32(n), be.Alloc(n)
				be.WriteU32(ib, idx)
				be.Write(sb, score)
				batch := be.AllocU32(B)
				perm := r.Perm(n)
				bv := make([]uint32, B)
				for k := range bv {
					bv[k] = uint32(perm[k])
				}
				be.WriteU32(batch, bv)
				out := make([]float32, objective.NumStats)
				require.NoError(b, be.Read(stats, out))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p.Step = uint32(i)
					be.MHSweep(omega, stats, s, ib, sb, batch, p)
					require.NoError(b, be.Flush())
				}
				require.NoError(b, be.Read(stats, out))
			})
		}
	}
}
