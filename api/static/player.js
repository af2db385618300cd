// The statement page: start the player at ?t=, show the caption line for audio, let the
// transcript seek and follow the speech, copy links to moments, and load a YouTube embed only
// after the reader asks for it. Without this script the page still works: the time links
// reload the page at their second, and the media fragment #t= starts the player there.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var transcript = document.getElementById("transcript");
  var status = document.getElementById("copy-status");
  var consent = document.getElementById("consent");
  var frame = null; // the YouTube embed, once loaded
  var reduced = window.matchMedia("(prefers-reduced-motion: reduce)");
  var passages = transcript ? Array.prototype.slice.call(transcript.querySelectorAll("p[data-s]")) : [];
  var starts = passages.map(function (p) { return Number(p.dataset.s); });
  var current = null;
  var touched = 0; // when the reader last scrolled, typed or pointed

  function seek(second) {
    try { player.currentTime = second; } catch (e) { /* not seekable yet */ }
  }

  if (player) {
    var start = Number(player.dataset.start || 0);
    if (start > 0) {
      if (player.readyState >= 1) seek(start);
      else player.addEventListener("loadedmetadata", function () { seek(start); }, { once: true });
    }
  }

  // <audio> shows no captions: show the current cue in the page instead.
  var line = document.getElementById("caption-line");
  if (player && line) {
    var track = player.querySelector("track");
    var captions = track && track.track;
    if (captions) {
      captions.mode = "hidden";
      line.hidden = false;
      captions.addEventListener("cuechange", function () {
        var cues = captions.activeCues;
        var texts = [];
        for (var i = 0; cues && i < cues.length; i++) texts.push(cues[i].getCueAsHTML().textContent);
        line.textContent = texts.join("\n");
      });
    }
  }

  // The passage being spoken: the last one that started (binary search over the starts).
  function passageAt(time) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= time + 0.05) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found < 0 ? null : passages[found];
  }

  function visible(element) {
    var box = element.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }

  function mark(time, follow) {
    var passage = passageAt(time);
    if (passage === current) return;
    if (current) { current.classList.remove("current"); current.removeAttribute("aria-current"); }
    current = passage;
    if (!passage) return;
    passage.classList.add("current");
    passage.setAttribute("aria-current", "true");
    // Follow the speech only while the reader is not busy with the page themselves.
    var busy = Date.now() - touched < 5000 || transcript.contains(document.activeElement);
    if (follow && !busy && !visible(passage)) {
      passage.scrollIntoView({ block: "center", behavior: reduced.matches ? "auto" : "smooth" });
    }
  }

  ["wheel", "touchstart", "keydown", "pointerdown"].forEach(function (name) {
    window.addEventListener(name, function () { touched = Date.now(); }, { passive: true });
  });

  if (player && passages.length) {
    player.addEventListener("timeupdate", function () { mark(player.currentTime, !player.paused); });
    player.addEventListener("seeked", function () { mark(player.currentTime, false); });
  }

  function youtubeSource(second) {
    return "https://www.youtube-nocookie.com/embed/" + consent.dataset.video +
      "?start=" + Math.floor(second) + "&autoplay=1";
  }

  // Go to a passage: seek the player (or the embed) and keep the moment in the address.
  function go(passage, link) {
    var second = Number(passage.dataset.s);
    if (player) {
      seek(second);
      mark(second, false);
      player.play().catch(function () { /* the reader may start it */ });
    } else if (frame) {
      frame.src = youtubeSource(second);
    } else {
      return false;
    }
    history.replaceState(null, "", link.getAttribute("href"));
    return true;
  }

  function copy(passage, button) {
    var link = passage.querySelector("a.time");
    var url = new URL(link.getAttribute("href"), window.location.href).href;
    function say(text) {
      status.textContent = text;
      button.classList.add("done");
      setTimeout(function () { button.classList.remove("done"); }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(
        function () { say(transcript.dataset.copied + ": " + url); },
        function () { say(transcript.dataset.failed + ": " + url); }
      );
    } else {
      say(transcript.dataset.failed + ": " + url);
    }
  }

  if (transcript) {
    passages.forEach(function (passage) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = transcript.dataset.copy;
      passage.appendChild(button);
    });
    transcript.addEventListener("click", function (event) {
      var target = event.target;
      var passage = target.closest("p[data-s]");
      if (!passage) return;
      var link = passage.querySelector("a.time");
      if (target.closest("button.copy")) { copy(passage, target.closest("button.copy")); return; }
      if (target.closest("a.time")) {
        if (go(passage, link)) event.preventDefault();
        return;
      }
      // A click in the text seeks too, unless the reader is selecting it.
      var selection = window.getSelection();
      if (selection && !selection.isCollapsed) return;
      if (target.closest("a")) return;
      go(passage, link);
    });
  }

  // Two-click consent: nothing is requested from YouTube before the reader clicks.
  if (consent) {
    var load = consent.querySelector("button.load-video");
    load.hidden = false;
    load.addEventListener("click", function () {
      frame = document.createElement("iframe");
      frame.src = youtubeSource(Number(consent.dataset.start || 0));
      frame.title = consent.dataset.title;
      frame.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
      frame.allowFullscreen = true;
      frame.referrerPolicy = "strict-origin-when-cross-origin";
      frame.className = "embed";
      consent.replaceChildren(frame);
      frame.focus();
    });
  }

  // The report's subject names the moment being played, not only the one the page opened at.
  var report = document.querySelector("a.report");
  if (report && player) {
    report.addEventListener("click", function () {
      var old = encodeURIComponent(report.dataset.time);
      var whole = Math.floor(player.currentTime);
      var hours = Math.floor(whole / 3600), minutes = Math.floor(whole / 60) % 60, seconds = whole % 60;
      var time = (hours ? hours + ":" + String(minutes).padStart(2, "0") : String(minutes)) +
        ":" + String(seconds).padStart(2, "0");
      var href = report.getAttribute("href");
      var at = href.lastIndexOf(old);
      if (at < 0) return;
      report.setAttribute("href", href.slice(0, at) + encodeURIComponent(time) + href.slice(at + old.length));
      report.dataset.time = time;
    });
  }
})();
