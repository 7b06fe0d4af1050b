// The cashier of the sample shop. Plain browser JavaScript, no build step. Every value from the server is written
// with textContent (never innerHTML), and only http(s) URLs are ever put into an href or src.
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var current = null; // the order shown in section 2
  var stream = null;
  var pollTimer = null;
  var h5Timer = null;
  var subMerchantNames = {};
  var productsById = {};
  var cartLines = []; // { productId, subMchid } chosen, not yet ordered
  var currentCart = null; // the cart shown in "Pay the cart"
  var cartStream = null;
  var cartPollTimer = null;
  var wechatSubStates = {}; // out_trade_no → trade_state from the last combine query
  var commissionPercent = 0;
  var watchScheduleMs = []; // when the order watch queries an order whose notification has not arrived
  var offered = { native: false, params: false, h5: false }; // the pay controls of the order's scene

  // ---- helpers ------------------------------------------------------------------------------------------------

  function show(el, visible) { el.hidden = !visible; }

  function yuan(fen) { return (fen < 0 ? '-¥' : '¥') + (Math.abs(fen) / 100).toFixed(2); }

  /** Beijing time (UTC+8, no DST), as WeChat Pay and its bills show it, whatever the browser's time zone. */
  function beijing(iso) {
    if (!iso) return '';
    var t = Date.parse(iso);
    return isNaN(t) ? '' : new Date(t + 8 * 3600000).toISOString().slice(0, 19).replace('T', ' ');
  }

  function safeUrl(value) {
    try {
      var url = new URL(value, location.href);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function setLink(el, value) {
    var url = value && safeUrl(value);
    if (url) el.href = url; else el.removeAttribute('href');
    return !!url;
  }

  /** The error replies of the API are { code, message, problems? }: make one readable line of them. */
  function describe(body, status) {
    if (!body || typeof body !== 'object') return 'HTTP ' + status;
    var text = (body.code ? body.code + ': ' : '') + (Array.isArray(body.message) ? body.message.join('; ') : body.message || 'HTTP ' + status);
    if (Array.isArray(body.problems)) text += ' — ' + body.problems.map(function (p) { return p.field + ' ' + p.message; }).join('; ');
    return text;
  }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (json) {
        if (!res.ok) {
          var err = new Error(describe(json, res.status));
          err.code = json && json.code;
          throw err;
        }
        return json;
      });
    });
  }

  function showError(el, err) {
    el.textContent = err ? String(err.message || err) : '';
    show(el, !!err);
  }

  function option(value, text) {
    var o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    return o;
  }

  /** A table row; each cell carries its column's name, which narrow screens show beside the value (table.cards). */
  function cellRow(values, numeric, table) {
    var heads = table ? table.querySelectorAll('thead th') : [];
    var tr = document.createElement('tr');
    values.forEach(function (v, i) {
      var td = document.createElement('td');
      td.textContent = v == null ? '' : String(v);
      if (numeric && numeric.indexOf(i) >= 0) td.className = 'num';
      if (heads[i]) td.setAttribute('data-label', heads[i].textContent);
      tr.appendChild(td);
    });
    return tr;
  }

  /** 3000 → "+3 s", 120000 → "+2 min". */
  function offset(ms) {
    return ms >= 60000 && ms % 60000 === 0 ? '+' + ms / 60000 + ' min' : '+' + Math.round(ms / 100) / 10 + ' s';
  }

  /** What told the shop that it was paid: WeChat Pay's notification, or a query because the notification did not come. */
  function renderConfirmed(el, row, what) {
    var by = row.state === 'SUCCESS' ? row.confirmed_by : null;
    show(el, !!by);
    if (!by) return;
    el.className = 'confirmed ' + by;
    el.textContent = '';
    var strong = document.createElement('strong');
    strong.textContent = by === 'query' ? 'Confirmed by query.' : 'Confirmed by notification.';
    el.appendChild(strong);
    el.appendChild(document.createTextNode(by === 'query'
      ? ' WeChat Pay\'s notification did not arrive: the order watch (or "Check payment") queried WeChat Pay, which said ' + what + ' paid.'
      : ' WeChat Pay\'s payment notification arrived; the order watch stopped querying.'));
  }

  /** While unpaid: when the watch will ask WeChat Pay, should the notification not come. */
  function renderWatchNote(el, row) {
    show(el, row.state === 'NOTPAY' && watchScheduleMs.length > 0);
    el.textContent = 'Watched: if no notification arrives, WeChat Pay is queried at ' + watchScheduleMs.map(offset).join(', ') +
      ' after ordering, and the order is closed when its payment window ends.';
  }

  // ---- configuration ------------------------------------------------------------------------------------------

  function loadConfig() {
    return api('GET', '/api/config').then(function (cfg) {
      var product = cfg.product === 'ecommerce' ? ' Platform: 平台收付通 (ecommerce).' : cfg.product === 'partner' ? ' Platform: 普通服务商 (partner).' : '';
      $('mode').textContent = (cfg.mode === 'simulator'
        ? 'Simulator mode: payments go to the embedded WeChat Pay simulator at ' + cfg.simulator_url + ' — no real money.'
        : 'Live mode: payments go to the real WeChat Pay.') + product;
      $('mode').className = 'mode ' + cfg.mode;
      commissionPercent = cfg.commission_percent || 0;
      watchScheduleMs = cfg.watch_schedule_ms || [];
      if (cfg.latest_bill_date) $('bill-date').value = cfg.latest_bill_date;
      cfg.products.forEach(function (p) {
        productsById[p.id] = p;
        $('product').appendChild(option(p.id, p.name + ' — ' + yuan(p.price)));
      });
      cfg.sub_merchants.forEach(function (s) {
        subMerchantNames[s.subMchid] = s.name;
        $('sub-mchid').appendChild(option(s.subMchid, s.name + ' (' + s.subMchid + ')'));
        $('bill-sub-mchid').appendChild(option(s.subMchid, s.name + ' (' + s.subMchid + ')'));
      });
    });
  }

  // ---- buying -------------------------------------------------------------------------------------------------

  function buy(scene) {
    showError($('buy-error'), null);
    var body = { productId: $('product').value, subMchid: $('sub-mchid').value, scene: scene };
    if (scene === 'jsapi' && $('openid').value.trim()) body.openid = $('openid').value.trim();
    setBusy(true);
    api('POST', '/api/orders', body)
      .then(function (created) { present(created); })
      .catch(function (err) {
        // The card of the previous order would look like the subject of this error: take it away.
        clearOrder();
        showError($('buy-error'), err);
      })
      .then(function () { setBusy(false); loadRecent(); });
  }

  function setBusy(busy) {
    ['buy-native', 'buy-jsapi', 'buy-app', 'buy-h5'].forEach(function (id) { $(id).disabled = busy; });
  }

  function clearOrder() {
    stopWatching();
    clearInterval(h5Timer);
    current = null;
    show($('order'), false);
    showError($('order-error'), null);
    showError($('refund-error'), null);
  }

  /** Shows a new order and what the payer needs for its scene. */
  function present(created) {
    var o = created.order;
    show($('order'), true);
    showError($('order-error'), null);
    showError($('refund-error'), null);
    offered = { native: !!created.code_url, params: !!created.pay_params, h5: !!created.h5 };
    clearInterval(h5Timer);

    if (created.code_url) {
      $('qr').src = safeUrl(created.qr_svg_url) || '';
      $('code-url').textContent = created.code_url;
      var linked = setLink($('pay-link'), created.pay_page_url);
      $('pay-link-note').textContent = linked
        ? 'Scan with WeChat, or click the code to open the simulator\'s payment page for it.'
        : 'Scan with WeChat to pay.';
      // Simulator mode only: pay on its page with "lose the notification" ticked, to see the watch find the payment.
      show($('pay-link-lost'), setLink($('pay-link-lost'), created.pay_page_url_lost_notification));
    }
    if (created.pay_params) {
      $('params-note').textContent = o.scene === 'jsapi'
        ? 'Pass these to WeixinJSBridge.invoke(\'getBrandWCPayRequest\', …) or wx.requestPayment(…). Their callback is no proof of payment.'
        : 'Pass these to the OpenSDK PayReq of the app. Its onResp is no proof of payment.';
      $('pay-params').textContent = JSON.stringify(created.pay_params, null, 2);
      show($('prepay-pay-link'), setLink($('prepay-pay-link'), created.pay_page_url));
    }
    if (created.h5) {
      setLink($('h5-link'), created.h5.url);
      $('h5-url').textContent = created.h5.h5_url;
      $('h5-redirect').textContent = created.h5.redirect_url;
      startH5Countdown(Date.parse(created.h5.expires_at));
    }
    render(o);
    watch(o.out_trade_no);
  }

  /** h5_url lives 5 minutes: show how long is left, and take the link away when it has expired. */
  function startH5Countdown(expiresAt) {
    var tick = function () {
      var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
      if (left === 0) {
        clearInterval(h5Timer);
        $('h5-link').removeAttribute('href');
        $('h5-expiry').textContent = 'h5_url expired (it lives 5 minutes): order again.';
        return;
      }
      $('h5-expiry').textContent = 'valid for ' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0');
    };
    tick();
    h5Timer = setInterval(tick, 1000);
  }

  /** Draws the order's state. "paid" appears only when the server says SUCCESS. */
  function render(o) {
    if (current && current.out_trade_no === o.out_trade_no && !o.refunds && current.refunds) o.refunds = current.refunds;
    if (current && current.out_trade_no === o.out_trade_no && o.commission === undefined) o.commission = current.commission;
    current = o;
    // A paid (or failed) order needs no QR code, link or countdown any more; a closed one keeps them, to show that
    // WeChat Pay refuses them now.
    var payable = o.state === 'NOTPAY' || o.state === 'CLOSED';
    show($('native'), offered.native && payable);
    show($('params'), offered.params && payable);
    show($('h5'), offered.h5 && payable);
    if (!payable || o.state === 'CLOSED') clearInterval(h5Timer);
    show($('closed-note'), o.state === 'CLOSED');
    show($('order-paid-at-label'), !!o.paid_at);
    show($('order-paid-at'), !!o.paid_at);
    $('order-paid-at').textContent = beijing(o.paid_at);
    renderRefunds(o);
    renderCommission(o);
    $('order-no').textContent = o.out_trade_no;
    show($('order-cart-label'), !!o.cart_no);
    show($('order-cart'), !!o.cart_no);
    $('order-cart').textContent = o.cart_no ? o.cart_no + ' (a sub-order: paid, checked and closed with its cart)' : '';
    $('order-description').textContent = o.description;
    $('order-sub-mchid').textContent = (subMerchantNames[o.sub_mchid] || '') + ' (' + o.sub_mchid + ')';
    $('order-total').textContent = yuan(o.total);
    $('order-state').textContent = o.state;
    $('order-state').className = 'state ' + o.state.toLowerCase();
    show($('paid-banner'), o.state === 'SUCCESS');
    renderConfirmed($('confirmed-by'), o, 'the order was');
    renderWatchNote($('watch-note'), o);
    $('check-order').disabled = o.state !== 'NOTPAY' || !!o.cart_no;
    $('close-order').disabled = o.state !== 'NOTPAY' || !!o.cart_no;
  }

  // ---- refunds ------------------------------------------------------------------------------------------------

  /** The refund controls of a paid order, and its refunds with their live state. */
  function renderRefunds(o) {
    var refunds = o.refunds || [];
    var left = typeof o.refundable === 'number' ? o.refundable : 0;
    show($('refund'), o.state === 'SUCCESS');
    if (o.state !== 'SUCCESS') return;
    $('refund-all').textContent = 'Refund all (' + yuan(left) + ')';
    $('refund-all').disabled = left < 1;
    $('refund-part').disabled = left < 1;
    $('refund-amount').max = (left / 100).toFixed(2);
    if (!$('refund-amount').value || Number($('refund-amount').value) * 100 > left) {
      $('refund-amount').value = left > 1 ? (Math.floor(left / 2) / 100).toFixed(2) : '';
    }
    $('refund-left').textContent = left > 0
      ? 'Refundable: ' + yuan(left) + ' of ' + yuan(o.total) + '. The result arrives by WeChat Pay\'s refund notification.'
      : 'Fully refunded.';
    var body = $('refund-rows');
    body.textContent = '';
    refunds.forEach(function (r) {
      var tr = cellRow([r.out_refund_no, yuan(r.amount), r.status, beijing(r.created_at), beijing(r.success_time)], [1], $('refund-table'));
      tr.children[2].className = 'state ' + r.status.toLowerCase();
      body.appendChild(tr);
    });
    show($('refund-table'), refunds.length > 0);
    show($('refund-check'), refunds.some(function (r) { return r.status === 'PROCESSING'; }));
  }

  /** Asks WeChat Pay about the refunds still PROCESSING (queryByOutRefundNo), for a late notification. */
  function checkRefunds() {
    if (!current) return;
    showError($('refund-error'), null);
    api('POST', '/api/orders/' + encodeURIComponent(current.out_trade_no) + '/refunds/check')
      .then(render)
      .catch(function (err) { showError($('refund-error'), err); })
      .then(loadRecent);
  }

  // ---- commission (profit sharing) ----------------------------------------------------------------------------

  var COMMISSION_TEXT = {
    WAITING: 'Not settled yet — WeChat Pay says to try later; press again in a moment (the same request is sent).',
    PROCESSING: 'Accepted by WeChat Pay, still processing: press again to query it.',
    FINISHED: 'Taken: the rest of the order is now available to the sub-merchant.',
    FAILED: 'Refused by WeChat Pay.',
  };

  /** The platform's commission of a paid order (not of a cart's sub-order, placed without profit sharing). */
  function renderCommission(o) {
    var c = o.commission || null;
    show($('commission'), o.state === 'SUCCESS' && !o.cart_no);
    if (o.state !== 'SUCCESS' || o.cart_no) return;
    var text;
    if (!c) text = commissionPercent + ' % of ' + yuan(o.total) + ' = ' + yuan(Math.floor(o.total * commissionPercent / 100)) + ' to the platform, by profit sharing after settlement.';
    else {
      text = yuan(c.amount) + ' · ' + c.state + (c.result && c.state === 'FINISHED' ? ' (' + c.result + ')' : '') + ' — ' + COMMISSION_TEXT[c.state];
      if (c.message) text += ' ' + c.message;
    }
    $('commission-info').textContent = text;
    $('commission-info').className = 'muted commission-' + (c ? c.state.toLowerCase() : 'none');
    $('take-commission').disabled = !!c && (c.state === 'FINISHED' || c.state === 'FAILED');
    $('take-commission').textContent = c && c.state === 'PROCESSING' ? 'Query commission' : 'Take commission';
  }

  function takeCommission() {
    if (!current) return;
    showError($('commission-error'), null);
    $('take-commission').disabled = true;
    var no = current.out_trade_no;
    api('POST', '/api/orders/' + encodeURIComponent(no) + '/commission')
      .then(render)
      .catch(function (err) {
        showError($('commission-error'), err);
        return api('GET', '/api/orders/' + encodeURIComponent(no)).then(render);
      })
      .then(loadBalances, loadBalances);
  }

  /** Frozen and available balance of each sub-merchant: from the embedded simulator only. */
  function loadBalances() {
    return api('GET', '/api/balances').then(function (view) {
      var body = $('balances-rows');
      body.textContent = '';
      show($('balances-table'), !!view.available);
      if (!view.available) {
        $('balances-note').textContent = view.message;
        return;
      }
      $('balances-note').textContent = 'Paid money of profit-sharing orders stays frozen until the commission is taken (finish: true unfreezes the rest), as the embedded simulator books it.';
      view.balances.forEach(function (b) {
        body.appendChild(cellRow([b.name + ' (' + b.sub_mchid + ')', yuan(b.frozen), yuan(b.available)], [1, 2], $('balances-table')));
      });
    }).catch(function (err) { $('balances-note').textContent = String(err.message || err); });
  }

  /** Shows an existing order (a cart's sub-order) in the order card, to refund it. */
  function openOrder(no) {
    api('GET', '/api/orders/' + encodeURIComponent(no)).then(function (view) {
      offered = { native: false, params: false, h5: false };
      clearInterval(h5Timer);
      show($('order'), true);
      showError($('order-error'), null);
      showError($('refund-error'), null);
      current = null;
      render(view);
      if (pending(view)) watch(no); else stopWatching();
      $('order').scrollIntoView({ behavior: 'smooth', block: 'start' });
    }).catch(function (err) { showError($('cart-order-error'), err); });
  }

  function refund(all) {
    if (!current) return;
    showError($('refund-error'), null);
    var body = {};
    if (!all) {
      var fen = Math.round(Number($('refund-amount').value) * 100);
      if (!(fen >= 1)) return showError($('refund-error'), new Error('Enter an amount of at least ¥0.01'));
      body.amount = fen;
    }
    $('refund-all').disabled = true;
    $('refund-part').disabled = true;
    var no = current.out_trade_no;
    api('POST', '/api/orders/' + encodeURIComponent(no) + '/refunds', body)
      .then(function (view) { render(view); watch(no); if (view.cart_no) refreshCart(); })
      .catch(function (err) {
        showError($('refund-error'), err);
        return api('GET', '/api/orders/' + encodeURIComponent(no)).then(render);
      })
      .then(loadRecent, loadRecent);
  }

  /** Whether the order can still change by itself: unpaid, or a refund on its way (as the server decides). */
  function pending(o) {
    return o.state === 'NOTPAY' || (o.refunds || []).some(function (r) { return r.status === 'PROCESSING'; });
  }

  // ---- live state: SSE, with polling as the fallback ----------------------------------------------------------

  function watch(no) {
    stopWatching();
    if (!window.EventSource) return poll(no);
    stream = new EventSource('/api/orders/' + encodeURIComponent(no) + '/events');
    $('order-live').textContent = '(live)';
    stream.onmessage = function (e) {
      var o = JSON.parse(e.data);
      if (!current || o.out_trade_no !== current.out_trade_no) return;
      render(o);
      if (o.cart_no && currentCart && currentCart.cart_no === o.cart_no) refreshCart();
      if (!pending(o)) { stopWatching(); loadRecent(); }
    };
    stream.onerror = function () {
      // The stream broke while the order is still open (proxy, restart): fall back to asking every 2 s.
      var open = current && current.out_trade_no === no && pending(current);
      stopWatching();
      if (open) poll(no);
    };
  }

  function poll(no) {
    $('order-live').textContent = '(polling)';
    pollTimer = setInterval(function () {
      api('GET', '/api/orders/' + encodeURIComponent(no)).then(function (o) {
        if (!current || o.out_trade_no !== current.out_trade_no) return;
        render(o);
        if (!pending(o)) { stopWatching(); loadRecent(); }
      }).catch(function () { /* next tick tries again */ });
    }, 2000);
  }

  function stopWatching() {
    if (stream) { stream.close(); stream = null; }
    clearInterval(pollTimer);
    pollTimer = null;
    $('order-live').textContent = '';
  }

  // ---- cart: one combine order for goods of several sub-merchants ---------------------------------------------

  function addToCart() {
    showError($('cart-error'), null);
    if (cartLines.length >= 10) return showError($('cart-error'), new Error('A cart of this shop holds at most 10 lines'));
    cartLines.push({ productId: $('product').value, subMchid: $('sub-mchid').value });
    renderCartLines();
  }

  function renderCartLines() {
    var body = $('cart-lines');
    body.textContent = '';
    var total = 0;
    var shops = {};
    cartLines.forEach(function (line, i) {
      var p = productsById[line.productId] || { name: line.productId, price: 0 };
      total += p.price;
      shops[line.subMchid] = true;
      var tr = cellRow([p.name, (subMerchantNames[line.subMchid] || '') + ' (' + line.subMchid + ')', yuan(p.price), ''], [2], $('cart-table'));
      var remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'small';
      remove.textContent = 'Remove';
      remove.addEventListener('click', function () { cartLines.splice(i, 1); renderCartLines(); });
      tr.lastChild.appendChild(remove);
      tr.lastChild.removeAttribute('data-label');
      body.appendChild(tr);
    });
    show($('cart-table'), cartLines.length > 0);
    show($('cart-empty'), cartLines.length === 0);
    $('pay-cart').disabled = cartLines.length === 0;
    var n = Object.keys(shops).length;
    $('cart-total').textContent = cartLines.length
      ? yuan(total) + ' · ' + cartLines.length + ' line(s) · ' + n + ' sub-merchant(s) → ' + cartLines.length + ' sub-order(s)'
      : '';
  }

  function payCart() {
    showError($('cart-error'), null);
    $('pay-cart').disabled = true;
    api('POST', '/api/carts', { items: cartLines })
      .then(function (created) {
        cartLines = [];
        renderCartLines();
        wechatSubStates = {};
        show($('cart-order'), true);
        showError($('cart-order-error'), null);
        $('cart-qr').src = safeUrl(created.qr_svg_url) || '';
        $('cart-code-url').textContent = created.code_url;
        var linked = setLink($('cart-pay-link'), created.pay_page_url);
        $('cart-pay-link-note').textContent = linked
          ? 'One code for the whole cart: scan with WeChat, or click it to open the simulator\'s payment page.'
          : 'One code for the whole cart: scan with WeChat to pay.';
        show($('cart-pay-link-lost'), setLink($('cart-pay-link-lost'), created.pay_page_url_lost_notification));
        renderCart(created.cart);
        watchCart(created.cart.cart_no);
      })
      .catch(function (err) {
        showError($('cart-error'), err);
        $('pay-cart').disabled = cartLines.length === 0;
      })
      .then(loadRecent);
  }

  /** Whether the cart can still change by itself: unpaid, or a sub-order's refund on its way. */
  function cartPending(c) {
    return c.state === 'NOTPAY' || c.sub_orders.some(pending);
  }

  function renderCart(c) {
    currentCart = c;
    $('cart-no').textContent = c.cart_no;
    $('cart-amount').textContent = yuan(c.total);
    $('cart-state').textContent = c.state;
    $('cart-state').className = 'state ' + c.state.toLowerCase();
    show($('cart-native'), c.state === 'NOTPAY' || c.state === 'CLOSED');
    show($('cart-paid-banner'), c.state === 'SUCCESS');
    renderConfirmed($('cart-confirmed-by'), c, 'every sub-order was');
    renderWatchNote($('cart-watch-note'), c);
    show($('cart-closed-note'), c.state === 'CLOSED');
    $('close-cart').disabled = c.state !== 'NOTPAY';
    $('check-cart').disabled = c.state === 'FAILED';
    var body = $('cart-sub-rows');
    body.textContent = '';
    c.sub_orders.forEach(function (o) {
      var refunded = (o.refunds || []).filter(function (r) { return r.status === 'SUCCESS'; }).reduce(function (sum, r) { return sum + r.amount; }, 0);
      var tr = cellRow([o.out_trade_no, (subMerchantNames[o.sub_mchid] || '') + ' (' + o.sub_mchid + ')', o.description, yuan(o.total), o.state, wechatSubStates[o.out_trade_no] || '', refunded ? yuan(refunded) : '', ''], [3, 6], $('cart-sub-table'));
      tr.children[4].className = 'state ' + o.state.toLowerCase();
      if (o.state === 'SUCCESS') {
        var open = document.createElement('button');
        open.type = 'button';
        open.className = 'small';
        open.textContent = 'Refund…';
        open.setAttribute('aria-label', 'Refund sub-order ' + o.out_trade_no);
        open.addEventListener('click', function () { openOrder(o.out_trade_no); });
        tr.lastChild.appendChild(open);
      }
      tr.lastChild.removeAttribute('data-label');
      body.appendChild(tr);
    });
  }

  function refreshCart() {
    if (!currentCart) return;
    var no = currentCart.cart_no;
    api('GET', '/api/carts/' + encodeURIComponent(no)).then(function (c) {
      if (currentCart && currentCart.cart_no === no) renderCart(c);
    }).catch(function () { /* the next change redraws it */ });
  }

  function watchCart(no) {
    stopWatchingCart();
    if (!window.EventSource) return pollCart(no);
    cartStream = new EventSource('/api/carts/' + encodeURIComponent(no) + '/events');
    $('cart-live').textContent = '(live)';
    cartStream.onmessage = function (e) {
      var c = JSON.parse(e.data);
      if (!currentCart || c.cart_no !== currentCart.cart_no) return;
      renderCart(c);
      if (!cartPending(c)) { stopWatchingCart(); loadRecent(); }
    };
    cartStream.onerror = function () {
      var open = currentCart && currentCart.cart_no === no && cartPending(currentCart);
      stopWatchingCart();
      if (open) pollCart(no);
    };
  }

  function pollCart(no) {
    $('cart-live').textContent = '(polling)';
    cartPollTimer = setInterval(function () {
      api('GET', '/api/carts/' + encodeURIComponent(no)).then(function (c) {
        if (!currentCart || c.cart_no !== currentCart.cart_no) return;
        renderCart(c);
        if (!cartPending(c)) { stopWatchingCart(); loadRecent(); }
      }).catch(function () { /* next tick tries again */ });
    }, 2000);
  }

  function stopWatchingCart() {
    if (cartStream) { cartStream.close(); cartStream = null; }
    clearInterval(cartPollTimer);
    cartPollTimer = null;
    $('cart-live').textContent = '';
  }

  function cartAction(action) {
    if (!currentCart) return;
    var no = currentCart.cart_no;
    showError($('cart-order-error'), null);
    api('POST', '/api/carts/' + encodeURIComponent(no) + '/' + action)
      .then(function (result) {
        if (result.wechat_sub_orders) {
          result.wechat_sub_orders.forEach(function (w) { wechatSubStates[w.out_trade_no] = w.trade_state; });
        }
        var c = result.cart || result;
        renderCart(c);
        if (!cartPending(c)) stopWatchingCart();
      })
      .catch(function (err) { showError($('cart-order-error'), err); })
      .then(loadRecent);
  }

  // ---- check and close ----------------------------------------------------------------------------------------

  function orderAction(action) {
    if (!current) return;
    showError($('order-error'), null);
    api('POST', '/api/orders/' + encodeURIComponent(current.out_trade_no) + '/' + action)
      .then(function (result) {
        var o = result.order || result;
        render(o);
        if (o.state !== 'NOTPAY') stopWatching();
        else if (action === 'check') $('order-live').textContent = '(WeChat Pay: ' + (result.trade_state || o.state) + ')';
      })
      .catch(function (err) { showError($('order-error'), err); })
      .then(loadRecent);
  }

  // ---- recent orders ------------------------------------------------------------------------------------------

  function loadRecent() {
    // Payments and refunds change the balances too.
    loadBalances();
    return api('GET', '/api/orders').then(function (orders) {
      var body = $('recent-rows');
      body.textContent = '';
      orders.forEach(function (o) {
        var refunded = (o.refunds || []).filter(function (r) { return r.status === 'SUCCESS'; }).reduce(function (sum, r) { return sum + r.amount; }, 0);
        body.appendChild(cellRow([o.out_trade_no, o.cart_no ? 'cart (combine)' : o.scene, o.description, o.sub_mchid, yuan(o.total), o.state, refunded ? yuan(refunded) : '', beijing(o.created_at)], [4, 6], body.parentNode));
      });
    }).catch(function () { /* the list is a convenience */ });
  }

  // ---- bills --------------------------------------------------------------------------------------------------

  function billQuery() {
    var q = new URLSearchParams();
    if ($('bill-date').value) q.set('date', $('bill-date').value);
    if ($('bill-sub-mchid').value) q.set('sub_mchid', $('bill-sub-mchid').value);
    return q.toString();
  }

  /** The CSV link is offered only for a bill that was just shown, so it never downloads an error. */
  function hideBillDownload() {
    show($('bill-download'), false);
    $('bill-download').removeAttribute('href');
  }

  function loadBill() {
    var query = billQuery();
    hideBillDownload();
    $('bill-message').textContent = 'Downloading the bill…';
    $('bill-message').className = '';
    show($('bill-table'), false);
    show($('bill-summary'), false);
    api('GET', '/api/bills/trade?' + query)
      .then(function (bill) {
        var rows = $('bill-rows');
        rows.textContent = '';
        bill.rows.forEach(function (r) {
          var amount = r.trade_state === 'REFUND' && r.refund_amount ? '−' + r.refund_amount.text : r.order_amount.text;
          rows.appendChild(cellRow([r.trade_time, r.out_trade_no, r.transaction_id, r.sub_mchid, r.trade_type, r.trade_state, r.goods_name, amount, r.fee.text], [7, 8], $('bill-table')));
        });
        var s = bill.summary;
        var summary = $('bill-summary');
        summary.textContent = '';
        [['Trades', s.total_count], ['Order total ¥', s.order_total.text], ['Settlement total ¥', s.settlement_total.text], ['Refunds ¥', s.refund_total.text], ['Fees ¥', s.fee_total.text]]
          .forEach(function (pair) {
            var dt = document.createElement('dt'); dt.textContent = pair[0];
            var dd = document.createElement('dd'); dd.textContent = String(pair[1]);
            summary.appendChild(dt); summary.appendChild(dd);
          });
        $('bill-message').textContent = 'Bill of ' + bill.bill_date + ': ' + s.total_count + ' trade(s)' + (bill.truncated ? ', first ' + bill.rows.length + ' shown' : '') + '.';
        show($('bill-table'), bill.rows.length > 0);
        show(summary, true);
        $('bill-download').href = '/api/bills/trade.csv?' + query;
        show($('bill-download'), true);
      })
      .catch(function (err) {
        // No trades that day, or the bill is not made yet: WeChat Pay's normal answers, not failures.
        var normal = err.code === 'NO_STATEMENT_EXIST' || err.code === 'STATEMENT_CREATING';
        $('bill-message').textContent = normal ? err.message.replace(/^[A-Z_]+: /, '') : err.message;
        $('bill-message').className = normal ? 'info' : 'error';
      });
  }

  // ---- reconciliation -----------------------------------------------------------------------------------------

  var DIFFERENCE_TEXT = {
    paid_not_local: 'Paid at WeChat Pay, not in the shop\'s books',
    local_not_at_wechat: 'Paid in the shop\'s books, not in WeChat Pay\'s bill',
    amount_mismatch: 'Both have the payment, with different amounts',
    state_mismatch: 'Paid at WeChat Pay, unpaid in the shop\'s books',
    refund_not_local: 'Refund at WeChat Pay, not in the shop\'s books',
    refund_local_not_at_wechat: 'Refund in the shop\'s books, not in WeChat Pay\'s bill',
    refund_amount_mismatch: 'Both have the refund, with different amounts',
    refund_state_mismatch: 'Both have the refund, in different states',
  };

  function side(s) { return s ? yuan(s.amount) + ' ' + s.state : '—'; }

  /** Runs the reconciliation of the latest billed day (yesterday) and shows its report. */
  function reconcile() {
    $('reconcile').disabled = true;
    $('reconcile-message').textContent = 'Downloading the bill and comparing it with the shop\'s books…';
    $('reconcile-message').className = '';
    show($('reconcile-summary'), false);
    show($('reconcile-table'), false);
    api('POST', '/api/reconciliation', {})
      .then(function (report) {
        var summary = $('reconcile-summary');
        summary.textContent = '';
        [['Day (Beijing)', report.bill_date], ['Bill rows read', report.noStatement ? '0 (no bill: no trades that day)' : report.billRows], ['Shop orders of the day', report.localOrders], ['Shop refunds of the day', report.localRefunds], ['Differences', report.totalDifferences]]
          .forEach(function (pair) {
            var dt = document.createElement('dt'); dt.textContent = pair[0];
            var dd = document.createElement('dd'); dd.textContent = String(pair[1]);
            summary.appendChild(dt); summary.appendChild(dd);
          });
        show(summary, true);
        var rows = $('reconcile-rows');
        rows.textContent = '';
        report.differences.forEach(function (d) {
          var tr = cellRow([(DIFFERENCE_TEXT[d.kind] || d.kind) + ' (' + d.kind + ')', d.out_refund_no || d.out_trade_no || d.transaction_id || '', d.sub_mchid, side(d.wechat), side(d.local)], [3, 4], $('reconcile-table'));
          tr.className = 'difference ' + d.kind;
          rows.appendChild(tr);
        });
        show($('reconcile-table'), report.differences.length > 0);
        $('reconcile-message').textContent = report.totalDifferences === 0
          ? 'Everything matched: the bill and the shop\'s books agree on every payment and refund of ' + report.bill_date + '.'
          : report.totalDifferences + (report.totalDifferences === 1 ? ' difference on ' : ' differences on ') + report.bill_date + (report.truncated ? ' (first ' + report.differences.length + ' shown)' : '') + '; everything else matched.';
        $('reconcile-message').className = report.totalDifferences === 0 ? 'info' : 'error';
      })
      .catch(function (err) {
        var normal = err.code === 'STATEMENT_CREATING';
        $('reconcile-message').textContent = normal ? err.message.replace(/^[A-Z_]+: /, '') : err.message;
        $('reconcile-message').className = normal ? 'info' : 'error';
      })
      .then(function () { $('reconcile').disabled = false; });
  }

  /** Yesterday in Beijing (UTC+8, no DST): the most recent day WeChat Pay has a bill for. */
  function beijingYesterday() {
    return new Date(Date.now() + 8 * 3600000 - 86400000).toISOString().slice(0, 10);
  }

  // ---- wiring -------------------------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', function () {
    ['native', 'jsapi', 'app', 'h5'].forEach(function (scene) {
      $('buy-' + scene).addEventListener('click', function () { buy(scene); });
    });
    $('check-order').addEventListener('click', function () { orderAction('check'); });
    $('close-order').addEventListener('click', function () { orderAction('close'); });
    $('refund-all').addEventListener('click', function () { refund(true); });
    $('refund-part').addEventListener('click', function () { refund(false); });
    $('refund-check').addEventListener('click', checkRefunds);
    $('take-commission').addEventListener('click', takeCommission);
    $('load-balances').addEventListener('click', loadBalances);
    $('add-to-cart').addEventListener('click', addToCart);
    $('pay-cart').addEventListener('click', payCart);
    $('check-cart').addEventListener('click', function () { cartAction('check'); });
    $('close-cart').addEventListener('click', function () { cartAction('close'); });
    $('load-bill').addEventListener('click', loadBill);
    $('reconcile').addEventListener('click', reconcile);
    $('bill-date').value = beijingYesterday();
    $('bill-date').addEventListener('change', hideBillDownload);
    $('bill-sub-mchid').addEventListener('change', hideBillDownload);
    loadConfig().catch(function (err) { $('mode').textContent = 'Cannot reach the shop API: ' + err.message; });
    loadRecent();
  });
})();
