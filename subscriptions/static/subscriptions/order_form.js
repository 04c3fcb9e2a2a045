// Order subscription: show the part of the form that the choice needs (without JavaScript both
// parts show), and let a client suggestion fill in the Client ID instead of opening the client.
(function () {
  "use strict";
  const radios = document.querySelectorAll("input[name='order-who']");
  function update() {
    const chosen = document.querySelector("input[name='order-who']:checked");
    const value = chosen ? chosen.value : "existing";
    document.querySelectorAll("[data-order-part]").forEach(function (part) {
      part.hidden = part.dataset.orderPart !== value;
    });
  }
  radios.forEach(function (r) { r.addEventListener("change", update); });
  update();
  const box = document.getElementById("order-client-suggestions");
  if (box) {
    box.addEventListener("click", function (event) {
      const item = event.target.closest("[data-number]");
      event.preventDefault();
      if (!item) return;
      document.getElementById("id_order-client_number").value = item.dataset.number;
      document.getElementById("order-client-search").value = item.querySelector(".fw-semibold").textContent;
      box.innerHTML = "";
    });
  }
})();
