/* tally.js: first-party measurement for tally (github.com/tally-health/tally).
 * What it sends and never sends: docs/SNIPPET.md. */
(function (w, d, n) {
  'use strict';
  var KEY = 'tally_vid', UTM = 'tally_utm';
  var script = d.currentScript;
  var base = (script && script.getAttribute('data-endpoint')) ||
    (script && script.src ? new URL(script.src).origin : '');
  base = base.replace(/\/+$/, '');

  function gpc() { return n.globalPrivacyControl === true; }

  // 128 random bits as hex; never derived from anything about the person.
  function randomID() {
    var b = new Uint8Array(16), s = '';
    crypto.getRandomValues(b);
    for (var i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }

  // Storage can throw (blocked storage, sandboxed frames): fail quietly.
  function get(store, k) { try { return w[store].getItem(k); } catch (e) { return null; } }
  function set(store, k, v) { try { w[store].setItem(k, v); return true; } catch (e) { return false; } }

  // Only a grant creates an id: without consent nothing is stored here.
  var vid;
  function storedVisitor() {
    if (vid) return vid;
    var m = /(?:^|; )tally_vid=([0-9a-f]{32})/.exec(d.cookie);
    var v = get('localStorage', KEY) || (m && m[1]);
    return v && /^[0-9a-f]{32}$/.test(v) ? (vid = v) : null;
  }
  function visitor() {
    if (storedVisitor()) return vid;
    vid = randomID();
    if (!set('localStorage', KEY, vid)) {
      // First-party cookie fallback on this site's own origin.
      d.cookie = KEY + '=' + vid + '; path=/; max-age=34560000; SameSite=Lax' +
        (location.protocol === 'https:' ? '; Secure' : '');
    }
    return vid;
  }

  // utm_source and utm_campaign, read once on the visit's landing page and
  // kept for the visit. Nothing else is read from the URL.
  var utm = get('sessionStorage', UTM);
  if (utm === null && !gpc()) {
    var q = new URLSearchParams(location.search);
    utm = JSON.stringify({ s: q.get('utm_source') || '', c: q.get('utm_campaign') || '' });
    set('sessionStorage', UTM, utm);
  }
  try { utm = JSON.parse(utm) || {}; } catch (e) { utm = {}; }

  // post sends a text/plain JSON body: a CORS "simple" request, no
  // preflight. fetch with keepalive survives page unload and, unlike
  // sendBeacon, can leave out the site's cookies and the referrer; sendBeacon
  // is the fallback for browsers without keepalive.
  var keepalive = w.Request && 'keepalive' in Request.prototype;
  function post(path, body, beacon) {
    var data = JSON.stringify(body);
    if (beacon && !keepalive && n.sendBeacon) {
      try { return Promise.resolve(n.sendBeacon(base + path, data)); } catch (e) { /* use fetch */ }
    }
    if (!w.fetch) return Promise.resolve(false);
    return fetch(base + path, {
      method: 'POST', body: data, keepalive: true, credentials: 'omit',
      referrerPolicy: 'no-referrer', headers: { 'Content-Type': 'text/plain' }
    }).then(function (r) { return r.ok; }, function () { return false; });
  }

  var pending = null; // the last consent call, so a track right after it lands second

  var tally = {
    consent: function (opts) {
      if (gpc()) return Promise.resolve(false);
      opts = opts || {};
      var granted = opts.advertising === true;
      // A refusal without an id has nothing to withdraw.
      var id = granted ? visitor() : storedVisitor();
      if (!id) return Promise.resolve(true);
      var body = { visitor_id: id, purposes: { advertising: granted } };
      body.source = typeof opts.source === 'string' ? opts.source : 'tally.js';
      if (typeof opts.version === 'string') body.version = opts.version;
      var p = pending = post('/v1/consent', body, false);
      p.then(function () { if (pending === p) pending = null; });
      return p;
    },
    track: function (event, opts) {
      if (gpc()) return Promise.resolve(false);
      opts = opts || {};
      // No id before a grant: a throwaway one is counted as no_consent.
      var body = { event_id: String(opts.event_id || randomID()), event: String(event),
        visitor_id: storedVisitor() || randomID() };
      if (utm.s) body.source = utm.s;
      if (utm.c) body.campaign = utm.c;
      function send() { return post('/v1/events', body, true); }
      // Send at once when nothing is pending: a page being unloaded may not
      // run later callbacks.
      return pending ? pending.then(send) : send();
    }
  };

  // Replay calls a stub queued before this script ran: {q: [[name, args...]]}.
  var queued = (w.tally && w.tally.q) || [];
  w.tally = tally;
  queued.forEach(function (c) { if (tally[c[0]]) tally[c[0]].apply(null, c.slice(1)); });
})(window, document, navigator);
