// 打印 buttons: any <button data-print hidden> is shown and opens the browser's print dialog.
// The button starts hidden, so it never shows where this script does not run. A file, not an
// inline script: the Content-Security-Policy allows scripts from the portal's own files only.
(function () {
  "use strict";
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.addEventListener("click", function () {
      window.print();
    });
    button.hidden = false;
  }
})();
