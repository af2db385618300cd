// Start the statement's player at ?t= and let transcript times seek without reloading.
(function () {
  var player = document.getElementById("player");
  if (!player) return;
  var start = Number(player.dataset.start || 0);
  function seek(second) {
    try { player.currentTime = second; } catch (e) { /* not seekable yet */ }
  }
  if (start > 0) {
    if (player.readyState >= 1) seek(start);
    else player.addEventListener("loadedmetadata", function () { seek(start); }, { once: true });
  }
  document.querySelectorAll("a.time").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      seek(Number(link.dataset.second));
      history.replaceState(null, "", "?t=" + link.dataset.second);
      player.play().catch(function () {});
    });
  });
})();
