// The local phone's look and its in-page script (kept apart from the routes). What the person typed
// is kept in sessionStorage, per number, so the thread survives a reload without the server ever
// handing reply text back out; Steady's side is re-read from the outbox.
import { scriptAsset } from './assets.ts';

export const PHONE_CSS = `<style>
.intro{max-width:32rem;margin:0 auto;text-align:center}.pick,.chips{max-width:24rem;margin:0 auto}.pick .row{display:flex;gap:.5rem}
.phone{max-width:24rem;margin:1rem auto;border:1px solid #98a2b3;border-radius:24px;background:#fff;overflow:hidden;display:flex;flex-direction:column;height:min(34rem,70vh)}
.bar{background:#f2f4f7;padding:.6rem 1rem;display:flex;justify-content:space-between;border-bottom:1px solid #e4e7ec}.bar .who{font-weight:700}.bar .num{color:#4b5563}
.thread{list-style:none;margin:0;padding:.75rem;overflow-y:auto;flex:1;display:flex;flex-direction:column;gap:.4rem}
.thread:focus-visible{outline-offset:-3px}
.msg{max-width:82%;padding:.5rem .75rem;border-radius:18px}.msg p{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.msg time{display:block;font-size:.75rem;margin-top:.15rem}
.msg.them{align-self:flex-start;background:#e9ecf1;color:#1d2330;border-bottom-left-radius:4px}.msg.them time{color:#4b5563}
.msg.me{align-self:flex-end;background:#0b57d0;color:#fff;border-bottom-right-radius:4px}.msg.me time{color:#e0eaff}
.compose{display:flex;gap:.5rem;padding:.5rem;border-top:1px solid #e4e7ec;align-items:flex-end}
.compose textarea{resize:none;border-radius:18px;min-height:2.6rem}.compose button{border-radius:18px}
.chips{display:flex;flex-wrap:wrap;gap:.4rem;justify-content:center}.chip{padding:.3rem .8rem;border-radius:999px}
#status{text-align:center;min-height:1.5em}
</style>`;

// A file under /assets (see assets.ts): the pages' policy allows no inline script.
export const PHONE_SCRIPT = scriptAsset(
  'dev-phone',
  `
(function () {
  var raw = document.getElementById('number').value;
  var digits = raw.replace(/\\D/g, '');
  var number = raw.trim().charAt(0) === '+' ? '+' + digits : digits.length === 10 ? '+1' + digits : '+' + digits;
  var thread = document.getElementById('thread');
  var sender = thread.getAttribute('data-sender') || 'Steady';
  var text = document.getElementById('text');
  var statusLine = document.getElementById('status');
  var key = 'devphone:' + number;
  var seen = {};
  var after = null;

  function status(s) { statusLine.textContent = s; }
  function typed() { try { return JSON.parse(sessionStorage.getItem(key) || '[]'); } catch (e) { return []; } }
  function remember(m) { var t = typed(); t.push(m); sessionStorage.setItem(key, JSON.stringify(t.slice(-200))); }

  function namedFirst(words, name) {
    return words.slice(0, name.length).toLowerCase() === name.toLowerCase() && !/\\w/.test(words.charAt(name.length));
  }

  function bubble(m) {
    if (seen[m.id]) return;
    seen[m.id] = true;
    var li = document.createElement('li');
    li.className = 'msg ' + m.dir;
    li.setAttribute('data-at', m.at);
    var p = document.createElement('p');
    // Said, not shown, who wrote it. Steady's texts already start with its name ("Steady: ...",
    // "Steady help: ..."): then the text alone says so, and the live region names it once.
    if (m.dir === 'me' || !namedFirst(m.text, sender)) {
      var who = document.createElement('span');
      who.className = 'sr-only';
      who.textContent = (m.dir === 'me' ? 'You' : sender) + ': ';
      p.appendChild(who);
    }
    p.appendChild(document.createTextNode(m.text));
    var t = document.createElement('time');
    t.dateTime = m.at;
    t.textContent = new Date(m.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    li.appendChild(p);
    li.appendChild(t);
    // Follow new messages only from the end of the thread (or after sending): someone who has
    // scrolled back to read, with the keyboard or otherwise, is not pulled away from it.
    var atEnd = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
    var kids = thread.children, i = kids.length;
    while (i > 0 && kids[i - 1].getAttribute('data-at') > m.at) i--;
    thread.insertBefore(li, kids[i] || null);
    if (atEnd || m.dir === 'me') thread.scrollTop = thread.scrollHeight;
  }

  function poll() {
    var url = '/dev/outbox.json?channel=sms&to=' + encodeURIComponent(number) + (after ? '&after=' + encodeURIComponent(after) : '&limit=200');
    fetch(url, { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (rows) {
        rows.forEach(function (r) {
          bubble({ id: r.id, dir: 'them', text: r.body, at: r.createdAt });
          if (!after || r.createdAt > after) after = r.createdAt;
        });
      })
      .catch(function () { status('The service is not answering; retrying.'); })
      .then(function () { setTimeout(poll, 1000); });
  }

  function say(words) {
    status('Sending…');
    fetch('/dev/phone/send', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ from: number, text: words }) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok) return status(res.j.message || 'Not sent.');
        var m = { id: res.j.sid, dir: 'me', text: words, at: res.j.at };
        remember(m);
        bubble(m);
        text.value = '';
        status('Sent.');
      })
      .catch(function () { status('Not sent: the service is not answering.'); });
  }

  document.getElementById('compose').addEventListener('submit', function (e) {
    e.preventDefault();
    if (text.value.trim()) say(text.value.trim());
  });
  text.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); document.getElementById('send').click(); }
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-say]'), function (b) {
    b.addEventListener('click', function () { say(b.getAttribute('data-say')); });
  });
  typed().forEach(bubble);
  poll();
})();
`,
);
