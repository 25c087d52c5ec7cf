// Shared page shell. Every page: UTF-8, a neutral title (a shared or watched browser shows tabs and
// history), a visible quick-exit button that leaves for a neutral site, readable on a phone.
import { scriptAsset } from './assets.ts';

export const esc = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

export const NEUTRAL_TITLE = 'Weekly notes';
export const QUICK_EXIT_URL = 'https://www.weather.gov/';

/** The page background, and the focus ring drawn on it and on white (cards, inputs): the ring
 * keeps at least 3:1 contrast against both (WCAG 1.4.11); #b45309 is 5.0:1 on white. */
export const PAGE_BACKGROUND = '#f6f7f9';
export const FOCUS_COLOUR = '#b45309';

const BASE_CSS = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2330;background:${PAGE_BACKGROUND}}
main{max-width:44rem;margin:0 auto;padding:1rem 1.25rem 3rem}a{color:#0b57d0}
h1{font-size:1.5rem;margin:.5rem 0 1rem}label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input,select,textarea{width:100%;font:inherit;padding:.55rem .6rem;border:1px solid #6b7280;border-radius:6px;background:#fff;color:#111}
button,.btn{display:inline-block;font:inherit;font-weight:600;padding:.55rem 1rem;border-radius:6px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.btn.secondary{background:#fff;color:#0b57d0}
:focus-visible{outline:3px solid ${FOCUS_COLOUR};outline-offset:2px}
.exit{position:fixed;top:.5rem;right:.5rem;background:#b42318;border-color:#b42318;z-index:10}
.exit+main{padding-top:3.25rem}
.card{background:#fff;border:1px solid #d0d5dd;border-radius:8px;padding:1rem;margin:1rem 0}
.muted{color:#4b5563}.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
`;

// The quick exit: the button replaces this page in the history (Back does not return to it), and
// Esc leaves at once, except while a suggestion list (a combobox) is open: then Esc only closes it.
// The list's own handler runs first and marks the key used (preventDefault); a combobox that says
// it is expanded is skipped too, in case its handler did not. Without the script the button is a
// plain link.
const QUICK_EXIT_SCRIPT = scriptAsset(
  'quick-exit',
  `(function(){var exit=document.getElementById('quick-exit');if(!exit)return;
var url=${JSON.stringify(QUICK_EXIT_URL)};
exit.addEventListener('click',function(e){e.preventDefault();location.replace(url);});
document.addEventListener('keydown',function(e){
if(e.key!=='Escape'||e.defaultPrevented)return;
var t=e.target;if(t&&t.getAttribute&&t.getAttribute('role')==='combobox'&&t.getAttribute('aria-expanded')==='true')return;
location.replace(url);});})();`,
);

export interface PageOptions {
  title?: string;
  quickExit?: boolean;
  head?: string;
  lang?: string;
  /** The quick-exit button's words in the page's language. */
  quickExitLabel?: string;
}

export function page(body: string, opts: PageOptions = {}): string {
  const exit =
    opts.quickExit === false
      ? ''
      : `<a class="btn exit" href="${QUICK_EXIT_URL}" rel="noreferrer" id="quick-exit">${esc(opts.quickExitLabel ?? 'Quick exit')}</a>`;
  return `<!doctype html>
<html lang="${esc(opts.lang ?? 'en')}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<title>${esc(opts.title ?? NEUTRAL_TITLE)}</title><style>${BASE_CSS}</style>${opts.head ?? ''}</head>
<body>${exit}<main>${body}</main>
${exit ? QUICK_EXIT_SCRIPT : ''}
</body></html>`;
}
