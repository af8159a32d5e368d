package mcmc_test

import (
	"fmt"
	"math"

	"github.com/emc2ml/emc2/core/mcmc"
)

// Example plugs EMC²'s sampler into a training loop of your own: here the "encoder" is a fixed
// table of 2-D embeddings on the circle, the two views of an image are the same point, and a step
// prints the weights Ω of anchor row 0, image 0 (its positive, column 4, gets −1; the sampled
// negatives share +1, here all on image 7, its nearest neighbour in the batch, in both views).
func Example() {
	const n, b = 8, 4
	emb := make([][2]float64, n) // image i at angle i·45°
	for i := range emb {
		a := float64(i) * math.Pi / 4
		emb[i] = [2]float64{math.Cos(a), math.Sin(a)}
	}
	s, err := mcmc.NewSampler(n, mcmc.SamplerOptions{Beta: 5, BurnIn: 0.5, Variant: mcmc.Fresh, Seed: 1})
	if err != nil {
		panic(err)
	}
	batch := []int{0, 2, 5, 7}
	for step := 0; step < 3; step++ {
		// The columns: view 1 and view 2 of the batch, then each chain's state image.
		cols := append(append(append([]int{}, batch...), batch...), s.StateImages(batch)...)
		sim := make([]float32, 2*b*len(cols))
		for r := 0; r < 2*b; r++ {
			for c, j := range cols {
				a := emb[batch[r%b]]
				sim[r*len(cols)+c] = float32(a[0]*emb[j][0] + a[1]*emb[j][1])
			}
		}
		omega, st, err := s.Step(sim, batch)
		if err != nil {
			panic(err)
		}
		// Back-propagate dLoss/dS = s.Scale(b)·omega through your encoder here.
		fmt.Printf("step %d: anchor 0's weights %v, acceptance %.2f\n", step, omega[:len(cols)], st.AcceptRate)
	}
	// Output:
	// step 0: anchor 0's weights [0 0 0 0.6666667 -1 0 0 0.33333334 0 0 0 0], acceptance 0.40
	// step 1: anchor 0's weights [0 0 0 0.6666667 -1 0 0 0.33333334 0 0 0 0], acceptance 0.33
	// step 2: anchor 0's weights [0 0 0 0.6666667 -1 0 0 0.33333334 0 0 0 0], acceptance 0.33
}
