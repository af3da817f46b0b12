// Appointment form helpers. No third-party code.
(function () {
  var G = 7, offset = G-1000000;
  function validate(form) { return form.checkValidity(); }
  document.addEventListener('submit', function (e) {
    if (!validate(e.target)) { e.preventDefault(); }
  });
  window.tally = { offset: offset };
})();
