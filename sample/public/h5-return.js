// The H5 redirect_url page. It checks the order only when the payer presses the button: WeChat may open this page
// before the payment has ended, so an automatic query could show "unpaid" for an order that is being paid.
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };

  document.addEventListener('DOMContentLoaded', function () {
    var no = new URLSearchParams(location.search).get('out_trade_no') || '';
    $('return-order-no').textContent = no;
    $('check-payment').addEventListener('click', function () {
      var button = $('check-payment');
      button.disabled = true;
      $('return-error').hidden = true;
      fetch('/api/orders/' + encodeURIComponent(no) + '/check', { method: 'POST' })
        .then(function (res) {
          return res.json().then(function (body) {
            if (!res.ok) throw new Error((body && body.message) || 'HTTP ' + res.status);
            return body.order;
          });
        })
        .then(function (order) {
          $('order-state').textContent = order.state;
          $('order-state').className = 'state ' + order.state.toLowerCase();
          $('paid-banner').hidden = order.state !== 'SUCCESS';
        })
        .catch(function (err) {
          $('return-error').textContent = err.message;
          $('return-error').hidden = false;
        })
        .then(function () { button.disabled = false; });
    });
  });
})();
