/* Interactive charts (the gap map and the heatmap) are <object>s, so their marks can be links. An
 * <object> keeps its drawn height when it narrows, so once the drawing has loaded this gives it the
 * drawing's aspect ratio: it then scales to the column like the image charts. Without JavaScript it
 * keeps its drawn size, and its figure scrolls sideways on a phone. */
(function () {
  function fit(object) {
    var svg = object.contentDocument && object.contentDocument.documentElement;
    if (!svg || svg.nodeName.toLowerCase() !== "svg") return;
    var width = parseFloat(svg.getAttribute("width"));
    var height = parseFloat(svg.getAttribute("height"));
    if (!(width > 0 && height > 0)) return;
    if (!svg.getAttribute("viewBox")) svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", "100%");
    object.style.width = width + "px";
    object.style.maxWidth = "100%";
    object.style.height = "auto";
    object.style.aspectRatio = width + " / " + height;
    object.closest("figure").classList.add("chart--fitted");
  }
  function init() {
    document.querySelectorAll("figure.chart--interactive object").forEach(function (object) {
      if (object.contentDocument && object.contentDocument.readyState === "complete") fit(object);
      object.addEventListener("load", function () { fit(object); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
