/* tally.js: first-party measurement for tally (github.com/tally-health/tally).
 * What it sends and never sends: docs/SNIPPET.md. */
(function (w, d, n) {
  'use strict';
  var KEY = 'tally_vid', UTM = 'tally_utm';
  var script = d.currentScript;
  function attr(a) { return script && script.getAttribute('data-' + a); }
  var base = attr('endpoint') || (script && script.src ? new URL(script.src).origin : '');
  base = base.replace(/\/+$/, '');

  function gpc() { return n.globalPrivacyControl === true; }

  // 128 random bits as hex, derived from nothing about the person.
  function randomID() {
    var b = new Uint8Array(16), s = '';
    crypto.getRandomValues(b);
    for (var i = 0; i < 16; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }

  // Storage may throw (blocked, sandboxed): fail quietly.
  function get(store, k) { try { return w[store].getItem(k); } catch (e) { return null; } }
  function set(store, k, v) { try { w[store].setItem(k, v); return true; } catch (e) { return false; } }

  // Only a grant creates an id: without one, nothing is stored.
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
      // Fallback: a cookie on this site's own origin.
      d.cookie = KEY + '=' + vid + '; path=/; max-age=34560000; SameSite=Lax' +
        (location.protocol === 'https:' ? '; Secure' : '');
    }
    return vid;
  }

  // utm_source and utm_campaign, read once a visit: nothing else of the URL.
  var utm = get('sessionStorage', UTM);
  if (utm === null && !gpc()) {
    var q = new URLSearchParams(location.search);
    utm = JSON.stringify({ s: q.get('utm_source') || '', c: q.get('utm_campaign') || '' });
    set('sessionStorage', UTM, utm);
  }
  try { utm = JSON.parse(utm) || {}; } catch (e) { utm = {}; }

  // A text/plain body needs no preflight. fetch keepalive survives unload
  // and, unlike the fallback sendBeacon, omits cookies and the referrer.
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

  // Consent calls go in turn, stamped with a strictly increasing time; a
  // track waits for them. Nothing pending: send at once (unload).
  var pending = null, last = 0;
  function after(f) { return pending ? pending.then(f) : f(); }

  var tally = {
    consent: function (opts) {
      opts = opts || {};
      var granted = opts.advertising === true;
      // Under GPC nothing is granted, but a withdrawal is always sent.
      if (granted && gpc()) return Promise.resolve(false);
      // A refusal without an id has nothing to withdraw.
      var id = granted ? visitor() : storedVisitor();
      if (!id) return Promise.resolve(true);
      last = Math.max(Date.now(), last + 1);
      var body = { visitor_id: id, time: new Date(last).toISOString() };
      // A CMP's string: the intake decides; advertising only allows an id.
      if (typeof opts.tcf === 'string') body.tcf = opts.tcf;
      else if (typeof opts.gpp === 'string') {
        body.gpp = opts.gpp;
        body.gpp_sid = opts.gpp_sid;
      } else {
        body.purposes = { advertising: granted };
        if (typeof opts.health_data === 'boolean') body.purposes.health_data = opts.health_data;
        body.source = typeof opts.source === 'string' ? opts.source : 'tally.js';
      }
      if (typeof opts.version === 'string') body.version = opts.version;
      var p = pending = after(function () { return post('/v1/consent', body, false); });
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
      return after(function () { return post('/v1/events', body, true); });
    }
  };

  // Replay what a stub queued: {q: [[name, args...]]}.
  var queued = (w.tally && w.tally.q) || [];
  w.tally = tally;
  queued.forEach(function (c) { if (tally[c[0]]) tally[c[0]].apply(null, c.slice(1)); });

  // data-consent="tcf|gpp|onetrust|cookiebot": follow that consent manager
  // through its own API, sending each state once (docs/CONSENT_CMP.md).
  var mode = attr('consent') || 'manual', sent;
  function record(opts) {
    var k = JSON.stringify(opts);
    if (k !== sent) { sent = k; tally.consent(opts); }
  }
  function warn(m) { console.warn('tally.js: data-consent: ' + m); }
  function listen(name) {
    if (typeof w[name] === 'function') return w[name];
    warn('no ' + name);
    return Object;
  }
  if (mode === 'tcf') {
    // Purpose 1 is consent to store an id. cmpuishown: the string is old.
    listen('__tcfapi')('addEventListener', 2, function (d, ok) {
      if (ok && d && d.tcString && d.eventStatus !== 'cmpuishown') {
        record({ tcf: d.tcString, advertising: ((d.purpose || {}).consents || {})[1] === true });
      }
    });
  } else if (mode === 'gpp') {
    // A grant to the page (for the id) when no opt-out field says 1.
    listen('__gpp')('addEventListener', function (e, ok) {
      var p = ok && e && e.pingData;
      if (p && p.signalStatus === 'ready' && p.gppString) {
        var o = (JSON.stringify(p.parsedSections) || '').match(/(Sale|Sharing|TargetedAdvertising)OptOut":\d/g) || [];
        record({ gpp: p.gppString, gpp_sid: p.applicableSections, advertising: o.length > 0 && !/:1/.test(o) });
      }
    });
  } else if (mode === 'onetrust') {
    // OneTrust calls OptanonWrapper on load and on every change.
    var group = attr('onetrust-group') || 'C0004', wrapped = w.OptanonWrapper;
    var onetrust = function () {
      var g = w.OnetrustActiveGroups;
      if (typeof g === 'string') record({ advertising: g.split(',').indexOf(group) >= 0, source: 'cmp' });
    };
    w.OptanonWrapper = function () { onetrust(); if (typeof wrapped === 'function') wrapped(); };
    onetrust();
  } else if (mode === 'cookiebot') {
    // Fired on a choice and on each later page load.
    var cookiebot = function () {
      var c = w.Cookiebot && w.Cookiebot.consent;
      if (c) record({ advertising: c.marketing === true, source: 'cmp' });
    };
    w.addEventListener('CookiebotOnAccept', cookiebot);
    w.addEventListener('CookiebotOnDecline', cookiebot);
    if (w.Cookiebot && w.Cookiebot.hasResponse) cookiebot();
  } else if (mode !== 'manual') warn('unknown ' + mode);
})(window, document, navigator);
