// English strings of the teaching page. One table per language, one file each: to add a language,
// copy this file to lang-XX.js, translate the values, and add it to i18n.js's list. Keys ending in
// _html hold markup (trusted, static); {name} is filled in by the page.
export default {
  nav_trainer: '← The trainer',
  nav_part1: '1. Negatives',
  nav_part2: '2. One chain',
  nav_part3: '3. In training',
  language: 'Language',
  title: 'Hard negatives, and a Markov chain that finds them',
  lead_html:
    'Contrastive learning teaches an encoder to put two views of the same image close together and ' +
    'different images apart. <strong>EMC²</strong> (Yau et al., ICML 2024) picks the images to push apart ' +
    'with one Metropolis–Hastings chain per training image. This page shows why, and runs that very ' +
    'sampler — the Go code of <code>core/mcmc</code>, compiled to WebAssembly — in front of you. ' +
    'Everything works without a GPU.',
  status_booting: 'Starting the engine…',
  status_ready: 'Ready: the sampler runs in a Web Worker, as WebAssembly.',
  status_loading_encoder: 'Loading the trained encoder and embedding {n} images…',
  status_error: 'Something went wrong: {msg}',

  p1_title: '1. What a negative is, and a hard one',
  p1_text1_html:
    'Take an image, the <em>anchor</em>. Two random augmentations of it (crop, flip, jitter, blur, noise) ' +
    'make its <em>positive</em>: the encoder should map both views to nearly the same unit vector, so ' +
    'their cosine similarity is high. Every other image is a <em>negative</em>: the encoder should ' +
    'keep it away.',
  p1_text2_html:
    'Most negatives are easy: a random sandal is already far from a shirt. The <em>hard</em> negatives are ' +
    'the other-class images the encoder still finds similar — a pullover or a coat for a shirt. They ' +
    'are the ones the loss learns from. Images of the anchor\'s own class are negatives too (no labels ' +
    'are used in training): these <em>false negatives</em> are marked in the histogram.',
  p1_text3_html:
    'The global contrastive loss weighs every negative <em>j</em> of an anchor by ' +
    '<em>p(j) ∝ exp(β·sim(anchor, j))</em>, a softmax over <em>all</em> of them. At β = 10 a handful of ' +
    'hard negatives carry much of the weight (the <em>effective number</em> 1/Σp² says how many). ' +
    'Computing it exactly needs every image, at every step.',
  p1_text4_html:
    'SimCLR replaces the sum over all negatives by one over the <em>B</em> images of the mini-batch. The ' +
    'batch sum, scaled up, estimates the partition function without bias — but the loss takes its ' +
    '<em>log</em>, and the log of an unbiased estimate is biased low (Jensen). The chart on the right shows ' +
    'this bias, and how far the in-batch softmax weights are from the true ones, against <em>B</em>: large ' +
    'at small <em>B</em>, which is why SimCLR needs big batches. EMC² keeps a Markov chain per image ' +
    'instead (part 2).',
  p1_encoder_note_html:
    'The encoder is the default CNN of this project, trained for 5 epochs by <code>emc2 train</code> on the ' +
    'built-in Fashion-MNIST subset (<code>make teach-encoder</code>; F16 weights, 0.86 MB). The pool is 30 ' +
    'test images per class, unaugmented.',
  p1_next: 'Another anchor',
  p1_beta: 'β for the weights',
  p1_random: 'Random negatives',
  p1_hard: 'Hard negatives (most similar, other class)',
  p1_anchor: 'anchor: {cls}',
  p1_view: 'view {i}: sim {sim}',
  p1_thumb: '{cls}\nsim {sim} · p {w}',
  p1_positive: 'The two views: similarity {pos}. The positive should be the most similar of all.',
  p1_summary:
    'Pool of {n} images. At β = {beta}, the {k} hard negatives carry {hard}% of the softmax weight, the {k} ' +
    'random ones {rand}%; the effective number of negatives is {eff}.',
  p1_hist_cap: 'Similarity of the anchor to every image of the pool',
  p1_bias_cap: 'What a mini-batch of B gets wrong',
  p1_hist_other: 'other class',
  p1_hist_same: 'same class (false negatives)',
  p1_hist_x: 'cosine similarity to the anchor',
  p1_hist_y: 'images',
  p1_bias_logz: 'bias of log Z (nats)',
  p1_bias_tv: 'TV of in-batch weights',
  p1_bias_x: 'batch size B',

  p2_title: '2. One chain, step by step',
  p2_text1_html:
    'A toy world: the points on the circle are the embeddings of the negatives, the star is the anchor, ' +
    'and sim is the cosine of the angle between them. The target is <em>p(j) ∝ exp(β·sim(anchor, j))</em>, ' +
    'drawn as the size of each point and as the line under the histogram.',
  p2_text2_html:
    'The chain holds one point, its <em>state</em>, and the state\'s log-score β·sim. Each step proposes a ' +
    'uniformly random point (in training: the next image of a random batch) and accepts it with ' +
    'probability <em>α = min(1, exp(q − score))</em>, where q is the proposal\'s log-score. The partition ' +
    'function cancels: the chain never needs the sum over all points. A uniform draw <em>u</em> decides: ' +
    'accepted (green) when u ≤ α, rejected (red) otherwise; then the chain stays where it is, and that ' +
    'repeated state is a sample too.',
  p2_text3_html:
    'The first step is always accepted (the empty chain scores −∞). The first steps still remember where ' +
    'the chain started, so the <em>burn-in</em> steps are discarded (shaded). After them, the histogram of ' +
    'visited states builds up toward the target, and its total-variation distance to it falls roughly like ' +
    '1/√length — more slowly than independent draws would (dashed), because successive states are ' +
    'correlated.',
  p2_text4_html:
    'Try β. At β = 0 every proposal is accepted and the target is flat. At larger β the target ' +
    'concentrates on the few points nearest the anchor — the hard negatives — and most proposals are ' +
    'rejected: the acceptance rate falls and the chain needs more steps. The paper trains at β = 14.28 ' +
    '(τ = 0.07).',
  p2_text5_html:
    'In EMC² each training image has such a chain. Every training step sweeps it over the 2B images of ' +
    'the batch (4B proposals, both views), and the chain\'s state is kept to the next time the image is ' +
    'drawn, so the chain grows longer across the whole run while each step costs no more than SimCLR\'s ' +
    'similarity matrix.',
  play: 'Play',
  pause: 'Pause',
  step: 'Step',
  reset: 'Reset',
  beta: 'β',
  burnin: 'Burn-in',
  points: 'Points',
  speed: 'Speed',
  seed: 'Seed',
  batch: 'Batch B',
  speed_value: '{n} steps/s',
  keys_note: 'Keys: space plays or pauses, → steps, R resets.',
  ubar_note: 'Bar: the acceptance probability α; mark: the uniform draw u. Accepted when u ≤ α.',
  stat_t: 'Steps',
  stat_accept: 'Acceptance rate',
  stat_tv: 'TV to the target',
  decision_none: 'No step yet. Press Step or Play.',
  decision:
    'Step {t}{burn}: proposed point {j} (sim {sim}), q = β·sim = {q}; the state\'s score is {score}. ' +
    'α = min(1, exp(q − score)) = {alpha}; u = {u} → {verdict}.',
  decision_burn: ' (burn-in)',
  accepted: 'accepted',
  rejected: 'rejected',
  empty_score: '−∞ (empty chain)',
  p2_hist_cap: 'Visits after burn-in (bars) and the target p(j) (line)',
  p2_rate_cap: 'Acceptance rate over time (burn-in shaded)',
  p2_tv_cap: 'Total-variation distance to the target against chain length',
  hist_visits: 'visits (share)',
  hist_target: 'target p(j)',
  hist_x: 'point (by angle, degrees)',
  rate_label: 'acceptance rate',
  tv_chain: 'chain',
  tv_indep: 'independent draws (≈)',
  chain_length: 'chain length (steps)',
  burnin_band: 'burn-in',
  p2_simclr_title: 'SimCLR\'s view: the softmax over one batch',
  p2_simclr_text_html:
    'SimCLR has no chain: for each anchor it takes the softmax over the <em>B</em> random candidates in its ' +
    'batch. Averaged over random batches, that weight is flatter than the target at small B — hard ' +
    'negatives are rarely in the batch, and when they are, the few others do not share the weight the way ' +
    'all would. Its distance to the target does not fall with training time; only a larger B helps. The ' +
    'chain\'s distance falls with its length, whatever B is.',
  p2_simclr_out: 'At B = {b}: TV(in-batch, target) = {tv}; bias of log Z = {bias} nats.',
  p2_simclr_cap: 'Target p(j) and SimCLR\'s expected in-batch weight at B',
  p2_simclr_tv_cap: 'Distance to the target: in-batch softmax at each B, and the chain now',
  simclr_weight: 'in-batch weight at B',
  simclr_tv: 'in-batch softmax',
  simclr_chain: 'the chain now',

  p3_title: '3. The same chain inside training',
  p3_text1_html:
    'Here a real, small EMC² training run works in this page: the first 256 images of the built-in Fashion-MNIST set, ' +
    'the trainer\'s encoder, augmentations and sampler, run on the CPU inside the page\'s worker (no GPU needed). ' +
    'Each step takes a batch of B images, makes two augmented views of each and compares every view with every other ' +
    '(the similarity matrix). Chain <em>k</em> of the batch then sweeps the 2B columns in order, first for view 1\'s ' +
    'anchor row, then for view 2\'s, with the very same proposal, uniform draw and acceptance test as in part 2.',
  p3_text2_html:
    'Of each view\'s 2(B−1) proposals (the anchor\'s own two views are skipped) the first P = ⌊burn-in·2(B−1)⌋ are ' +
    'burn-in; the state after each later one is <strong>recorded</strong>, and the recorded states, each weighing 1/M, ' +
    'are the weights of the negatives in the loss. Between steps a chain keeps only two numbers: its state\'s image ' +
    'and that state\'s score.',
  p3_text3_html:
    '<strong>Paper or fresh.</strong> The released code (paper) compares each proposal with the score its state had ' +
    'when it was accepted, computed with older weights, perhaps many steps ago; fresh first re-scores the state with ' +
    'this step\'s features. The stored score is shown beside the fresh one: their gap is how stale the paper\'s ' +
    'comparison is.',
  p3_text4_html:
    'Pick an anchor to follow its chain. Its walk in the last step that held it is shown decision by decision, as ' +
    '<code>mcmc.ReplayChain</code> replays it from that step\'s own similarity matrix (the trainer\'s chain inspector ' +
    'shows the same report). An image is in one batch per epoch, so <em>Train to its next visit</em> trains until ' +
    'its chain moves again.',
  p3_play: 'Play',
  p3_step: 'Train a step',
  p3_next: 'Train to its next visit',
  p3_reset: 'Restart the run',
  p3_variant: 'Sampler',
  p3_images: 'Images',
  p3_keys_note: 'Keys: T trains a step, P plays or pauses, N trains to the followed chain\'s next visit (inside this part also → and space).',
  p3_status: 'Step {step} of {total} (epoch {epoch}) · sampler {variant} · B = {b}, burn-in P = {p}, M = {m} recorded per view',
  p3_no_step: 'No step yet: train one.',
  p3_anchors: 'The batch\'s anchors — pick one to follow its chain',
  p3_anchor_cap: 'k = {k} · #{i}\n{cls}\n{acc} accepted',
  p3_walk_title: 'The chain of {name}: its walk in step {step}',
  p3_walk_title_none: 'The followed chain',
  p3_follow_none: 'Following {name}: no step of it traced yet. {next}',
  p3_follow_sum:
    '{where}{n} decisions: {proposals} proposals (the anchor\'s own views skipped), {acc} accepted; {rec} recorded into ' +
    'the loss, {drop} dropped as stale. State stored after the step: {after}. {next}',
  p3_older: 'Not in this step\'s batch: this is its walk in step {step}. ',
  p3_next_visit: 'Its image is next in the batch of step {step}.',
  p3_no_next: 'Its image is in no later batch of this run.',
  p3_none: 'none',
  p3_scores_none: 'This chain had no state before the step (it had never accepted), so there is no stored score yet.',
  p3_scores_sweep:
    'Stored score {stored} (computed {age} steps earlier) · fresh score {fresh} (this step\'s re-score, which the ' +
    'sweep started from) · gap {gap}. Fresh compares proposals with the fresh score.',
  p3_scores_plain:
    'Stored score {stored} (computed {age} steps earlier) · fresh score {fresh} (the same pair scored now, with the ' +
    'current weights on the plain images) · gap {gap}. Paper compares proposals with the stored score.',
  p3_columns: 'The in-batch candidates: the columns the chain proposes',
  p3_cols_v1: 'View 1 (columns {lo}–{hi})',
  p3_cols_v2: 'View 2 (columns {lo}–{hi})',
  p3_cols_state: 'States, re-scored (columns {lo}–{hi})',
  p3_cols_legend: 'Grey dashed: the anchor\'s own views (never a negative). Green: accepted in this walk. Thick ring: the state stored after the step.',
  p3_walk_cap: 'Every decision of the followed chain in its step: green accepted, red rejected, grey its own view (skipped); shaded rows are burn-in.',
  p3_th_n: '#',
  p3_th_view: 'View',
  p3_th_col: 'Proposed column',
  p3_th_q: 'β·s of it',
  p3_th_score: 'Chain\'s score',
  p3_th_dec: 'Decision',
  p3_th_rec: 'In the loss?',
  p3_col: 'col {c} · #{i} {cls}',
  p3_own: 'own view',
  p3_acc: 'accepted',
  p3_rej: 'rejected',
  p3_recorded: 'recorded (col {c})',
  p3_dropped: 'dropped (stale state)',
  p3_burnin: 'burn-in',
  p3_chains: 'This step\'s chains: the stored score beside the fresh one',
  p3_th_image: 'Anchor',
  p3_th_acc: 'Accepted',
  p3_th_stored: 'Stored score',
  p3_th_age: 'Computed',
  p3_th_fresh: 'Fresh score',
  p3_th_gap: 'Gap',
  p3_age: '{n} steps ago',
  p3_accept_cap: 'Acceptance per training step: the batch\'s chains, and the followed chain at its visits',
  p3_stale_cap: 'Mean |stored − fresh| score of the batch\'s chains, per step',
  p3_chart_step: 'training step',
  p3_chart_rate: 'acceptance rate',
  p3_chart_batch: 'the batch (trainer\'s statistic)',
  p3_chart_followed: 'followed chain #{i}',
  p3_chart_gap: 'mean |stored − fresh|',
  p3_chart_gap_y: '|stored − fresh| (β·s)',
  footer_html:
    'emc2 — the sampler on this page is <code>core/mcmc</code> compiled to WebAssembly, the same code that ' +
    'trains. Images: Fashion-MNIST (Zalando SE, MIT licence). Nothing leaves this page.',
};
