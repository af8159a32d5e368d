// The page's languages: one string table per language, a file each (lang-XX.js). t(key, vars)
// looks a string up in the current language, falling back to English, and fills in {name}s.
import en from './lang-en.js';
import ja from './lang-ja.js';

export const languages = { en, ja };
let current = 'en';

export function setLanguage(code) {
  current = languages[code] ? code : 'en';
  document.documentElement.lang = current;
  return current;
}

export function language() {
  return current;
}

export function t(key, vars = {}) {
  const s = languages[current][key] ?? en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// apply fills every [data-i18n] element: keys ending in _html set markup, the others text.
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const key = el.dataset.i18n;
    if (key.endsWith('_html')) el.innerHTML = t(key);
    else el.textContent = t(key);
  }
}
