// The sign-up form's in-page scripts (kept apart from the page's words).
//
// Time-zone suggestions: without JavaScript the field uses the browser's own <datalist>. With it,
// the field becomes an ARIA combobox with a list we control, because Esc is the quick exit on
// every public page and a browser does not say whether its own suggestion popup is open. While
// our list is open, Esc closes only the list (and marks the key used, so page()'s quick-exit
// handler lets it be); with the list closed, Esc leaves the page as everywhere else.
//
// Error summary: after a refused sign-up the summary takes focus, so a keyboard or screen-reader
// user starts at what went wrong rather than at the top of the page.
//
// Each is a file under /assets (see assets.ts): the pages' policy allows no inline script.
import { scriptAsset } from './assets.ts';

export const SIGNUP_CSS =
  '.suggest{list-style:none;margin:.25rem 0 0;padding:0;max-height:12rem;overflow-y:auto;border:1px solid #6b7280;border-radius:6px;background:#fff}' +
  '.suggest li{padding:.4rem .6rem;cursor:pointer;overflow-wrap:anywhere}.suggest li:hover{background:#e8effc}' +
  '.suggest li[aria-selected=true]{background:#0b57d0;color:#fff}' +
  '.error-summary{border-color:#b42318}.error-summary a{color:#b42318;font-weight:600}';

export const ERROR_SUMMARY_SCRIPT = scriptAsset(
  'error-summary',
  "(function(){var s=document.getElementById('error-summary');if(s)s.focus();})();",
);

// The time zone field starts with the browser's own zone, unless the person already chose one
// (a refused form comes back with their choice, marked data-chosen). Used by the sign-up form and
// by the "send me a new link" form (a hidden field there).
export const TZ_FILL_SCRIPT = scriptAsset(
  'tz-fill',
  `(function(){var f=document.getElementById('timezone');if(!f||f.getAttribute('data-chosen'))return;
try{var z=Intl.DateTimeFormat().resolvedOptions().timeZone;if(z)f.value=z;}catch(e){}})();`,
);

export const TZ_SUGGEST_SCRIPT = scriptAsset(
  'tz-suggest',
  `
(function () {
  var input = document.getElementById('timezone');
  var data = document.getElementById('zones');
  if (!input || !data) return;
  var zones = Array.prototype.map.call(data.options, function (o) { return o.value; });
  var list = document.createElement('ul');
  list.id = 'zones-list';
  list.className = 'suggest';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', 'Time zone suggestions');
  list.hidden = true;
  input.removeAttribute('list');
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', list.id);
  input.parentNode.insertBefore(list, input.nextSibling);
  var shown = [];
  var active = -1;

  function norm(s) { return s.toLowerCase().replace(/[_\\s]+/g, ' ').trim(); }
  function isOpen() { return !list.hidden; }
  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }
  function open(all) {
    var q = norm(input.value);
    shown = zones.filter(function (z) { return all || !q || norm(z).indexOf(q) >= 0; });
    if (!shown.length || (shown.length === 1 && shown[0] === input.value)) return close();
    active = -1;
    list.textContent = '';
    shown.forEach(function (z, i) {
      var li = document.createElement('li');
      li.id = 'zones-option-' + i;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      li.textContent = z;
      // mousedown, not click: the field keeps focus, so it never closes the list on blur first.
      li.addEventListener('mousedown', function (e) { e.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    input.removeAttribute('aria-activedescendant');
  }
  function move(by) {
    if (active >= 0) list.children[active].setAttribute('aria-selected', 'false');
    active = (active + by + shown.length) % shown.length;
    var li = list.children[active];
    li.setAttribute('aria-selected', 'true');
    input.setAttribute('aria-activedescendant', li.id);
    if (li.scrollIntoView) li.scrollIntoView({ block: 'nearest' });
  }
  function choose(i) { input.value = shown[i]; close(); }

  input.addEventListener('input', function () { open(false); });
  input.addEventListener('blur', close);
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      if (isOpen()) { e.preventDefault(); close(); }
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!isOpen()) open(e.altKey || zones.indexOf(input.value) >= 0);
      else if (!e.altKey) move(1);
    } else if (e.key === 'ArrowUp') {
      if (isOpen()) { e.preventDefault(); if (e.altKey) close(); else move(-1); }
    } else if (e.key === 'Enter') {
      if (isOpen() && active >= 0) { e.preventDefault(); choose(active); }
      else close();
    } else if (e.key === 'Tab') {
      close();
    }
  });
})();
`,
);
