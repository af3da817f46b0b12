// Site behaviour: menus and forms. An agency added the TikTok pixel here,
// so every page that loads this file loads TikTok too.
(function () {
  var menu = document.querySelector('nav');
  if (menu) { menu.classList.add('ready'); }

  var s = document.createElement('script');
  s.async = true;
  s.src = 'https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=C4ABCDEFGHIJK12345&lib=ttq';
  document.head.appendChild(s);
  window.ttq = window.ttq || [];
  ttq.load('C4ABCDEFGHIJK12345');
  ttq.page();
})();
