// The page's settings, mirrored in the address bar so that a teacher can hand out a link that opens
// at a given setting: part, lang, and part 2's beta, burnin, points, seed, speed, b, run; part 1's
// anchor and beta1; part 3's v3 (sampler), n3 (images), b3 (batch), seed3, follow (training image,
// −1: the batch's first chain) and at (steps trained on opening).
export const defaults = {
  part: 1, lang: 'en', beta: 2, burnin: 100, points: 40, seed: 1, speed: 2, b: 4, run: 2000, anchor: 0, beta1: 10,
  v3: 'fresh', n3: 256, b3: 8, seed3: 1, follow: -1, at: 0,
};
const variants = ['fresh', 'paper'];

const limits = {
  part: [1, 3], beta: [0, 50], burnin: [0, 100000], points: [3, 400], seed: [0, 2 ** 32 - 1], speed: [0, 5], b: [2, 400],
  run: [0, 200000], anchor: [0, 100000], beta1: [0, 50],
  n3: [16, 512], b3: [2, 16], seed3: [0, 2 ** 32 - 1], follow: [-1, 511], at: [0, 2000],
};

export function read() {
  const q = new URLSearchParams(location.search);
  const s = { ...defaults };
  for (const [k, [lo, hi]] of Object.entries(limits)) {
    if (!q.has(k)) continue;
    const v = Number(q.get(k));
    if (Number.isFinite(v)) s[k] = Math.min(hi, Math.max(lo, k === 'beta' || k === 'beta1' ? v : Math.round(v)));
  }
  if (q.has('lang')) s.lang = q.get('lang');
  if (variants.includes(q.get('v3'))) s.v3 = q.get('v3');
  return s;
}

// write puts the settings that differ from the defaults into the address bar.
export function write(s) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) if (v !== defaults[k]) q.set(k, v);
  const search = q.toString();
  history.replaceState(null, '', search ? `?${search}${location.hash}` : location.pathname + location.hash);
}
