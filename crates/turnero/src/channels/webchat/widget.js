// turnero web chat widget: <script src="https://…/chat/{tenant}/widget.js" async></script>
// adds a chat button to the page that opens the chat in a frame.
(function () {
  var me = document.currentScript;
  var page = me.src.replace(/\/widget\.js(\?.*)?$/, "");
  var open = false;
  var frame = document.createElement("iframe");
  frame.src = page;
  frame.title = "Chat";
  frame.style.cssText = "position:fixed;bottom:88px;right:16px;width:360px;height:520px;" +
    "max-height:80vh;border:0;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.2);" +
    "display:none;z-index:2147483000;background:#fff";
  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", "Chat");
  button.textContent = "💬";
  button.style.cssText = "position:fixed;bottom:16px;right:16px;width:56px;height:56px;" +
    "border-radius:50%;border:0;font-size:26px;cursor:pointer;background:#0b7a75;color:#fff;" +
    "z-index:2147483000";
  button.onclick = function () {
    open = !open;
    frame.style.display = open ? "block" : "none";
  };
  document.body.appendChild(frame);
  document.body.appendChild(button);
})();
