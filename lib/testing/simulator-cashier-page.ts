/**
 * The simulated cashier: what the payer sees after scanning a Native code_url or opening an H5 h5_url. A plain HTML
 * page with Pay and Cancel buttons, so that browser tests (and people) can complete a payment end to end. Every
 * interpolated value is HTML-escaped; data reaches the script through data-* attributes, never through inline JS.
 */

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What the cashier page shows. */
export interface CashierPageModel {
  /** `pr` (Native) or `prepay_id` (H5, JSAPI, APP). */
  tokenParam: 'pr' | 'prepay_id';
  token: string;
  merchantName: string;
  subMchid: string;
  description: string;
  outTradeNo: string;
  /** fen */
  total: number;
  tradeState: string;
  /** H5 only: where the "return to merchant" link goes after paying. Only http(s) URLs are linked. */
  redirectUrl?: string;
  /** Tick the "lose the notification" box (the page was opened with `lose_notification=1`). */
  loseNotification?: boolean;
}

// Phone-first: the page stands in for WeChat's own payment sheet. Long order numbers wrap instead of widening it.
const STYLE = `*{box-sizing:border-box}body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:420px;margin:24px auto;padding:0 16px;color:#222}
h1{font-size:18px;color:#07c160}.amount{font-size:36px;font-weight:600;margin:16px 0}dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:6px 12px}
dt{color:#888}dd{margin:0;overflow-wrap:anywhere}.buttons{display:flex;gap:8px;margin-top:16px}
button{flex:1;font-size:16px;padding:12px 20px;border:0;border-radius:6px;cursor:pointer}button:disabled{opacity:.5;cursor:default}
#sim-pay{background:#07c160;color:#fff}#sim-cancel{background:#eee}#sim-result{font-weight:600;margin-top:16px;min-height:1.5em}
#sim-state{font-weight:600}#sim-state.SUCCESS{color:#07c160}#sim-state.CLOSED,#sim-state.PAYERROR,#sim-state.REVOKED{color:#d93025}
.error{color:#d93025}.note{color:#888;font-size:12px}.lose{display:flex;gap:8px;align-items:flex-start;margin-top:14px;font-size:13px;color:#555}
.lose input{margin-top:2px;flex:none}`;

/** WeChat Pay green with a check mark, inline: the simulator serves no files. */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%2307c160'/%3E" +
  "%3Cpath d='M9 16.5l4.5 4.5L23 11.5' stroke='white' stroke-width='3.2' fill='none' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E";

// After an answer the page shows the order's state as the simulator just set it: SUCCESS after paying (no second
// payment offered), still NOTPAY after a cancel (the payer may change their mind and pay).
const SCRIPT = `(function(){
var d=document.body.dataset,result=document.getElementById('sim-result'),back=document.getElementById('sim-return');
var state=document.getElementById('sim-state'),tx=document.getElementById('sim-transaction');
var buttons=[document.getElementById('sim-pay'),document.getElementById('sim-cancel')];
var lose=document.getElementById('sim-lose-notification');
function enable(on){buttons.forEach(function(b){b.disabled=!on;});}
function setState(s){if(state){state.textContent=s;state.className=s;}}
function act(path){
  enable(false);
  result.className='';
  var body={};body[d.param]=d.token;
  var lost=path.slice(-4)==='/pay'&&lose&&lose.checked;
  if(lost){body.lose_notification=true;}
  fetch(path,{method:'POST',headers:{'Content-Type':'application/json'},body:JSON.stringify(body)})
    .then(function(r){return r.json().then(function(j){return {ok:r.ok,j:j};});})
    .then(function(x){
      if(!x.ok){result.className='error';result.textContent='error: '+x.j.code+' '+x.j.message;enable(true);return;}
      if(x.j.result==='paid'){
        setState('SUCCESS');
        result.textContent=lost?'paid — notification lost: the merchant is not told, only a query finds the payment':'paid';
        if(lose){lose.disabled=true;}
        if(tx&&x.j.transaction_id){tx.textContent='支付成功 · transaction_id '+x.j.transaction_id;tx.hidden=false;}
        if(back){back.hidden=false;}
        return;
      }
      setState('NOTPAY');
      result.textContent='cancelled — 已取消, the order is still unpaid';
      enable(true);
    })
    .catch(function(e){result.className='error';result.textContent='error: '+e;enable(true);});
}
buttons[0].addEventListener('click',function(){act('/__sim/cashier/pay');});
buttons[1].addEventListener('click',function(){act('/__sim/cashier/cancel');});
})();`;

function page(title: string, main: string, data = ''): string {
  return (
    `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><link rel="icon" href="${FAVICON}"><style>${STYLE}</style></head><body${data}>${main}</body></html>`
  );
}

function safeHttpUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** The cashier page of an order. */
export function renderCashierPage(m: CashierPageModel): string {
  const payable = m.tradeState === 'NOTPAY';
  const redirect = safeHttpUrl(m.redirectUrl);
  const main =
    `<h1>微信支付 WeChat Pay · 模拟收银台 Simulated cashier</h1>` +
    `<div class="amount">¥${escapeHtml((m.total / 100).toFixed(2))}</div>` +
    `<dl><dt>商户 Merchant</dt><dd id="sim-merchant">${escapeHtml(m.merchantName)} (${escapeHtml(m.subMchid)})</dd>` +
    `<dt>商品 Description</dt><dd id="sim-description">${escapeHtml(m.description)}</dd>` +
    `<dt>订单号 Order</dt><dd id="sim-out-trade-no">${escapeHtml(m.outTradeNo)}</dd>` +
    `<dt>状态 State</dt><dd><span id="sim-state" class="${escapeHtml(m.tradeState)}">${escapeHtml(m.tradeState)}</span></dd></dl>` +
    `<div class="buttons"><button id="sim-pay" type="button"${payable ? '' : ' disabled'}>Pay / 支付</button>` +
    `<button id="sim-cancel" type="button"${payable ? '' : ' disabled'}>Cancel / 取消</button></div>` +
    `<label class="lose"><input id="sim-lose-notification" type="checkbox"${m.loseNotification ? ' checked' : ''}${payable ? '' : ' disabled'}>` +
    `<span>通知丢失 Lose the notification: pay, but never send TRANSACTION.SUCCESS to the merchant, as when WeChat Pay's notification does not arrive (simulator only)</span></label>` +
    `<p id="sim-result" role="status">${payable ? '' : escapeHtml(m.tradeState === 'SUCCESS' ? 'paid' : m.tradeState.toLowerCase())}</p>` +
    `<p id="sim-transaction" class="note" hidden></p>` +
    (redirect ? `<p><a id="sim-return" href="${escapeHtml(redirect)}"${m.tradeState === 'SUCCESS' ? '' : ' hidden'}>返回商户 Return to merchant</a></p>` : '') +
    `<p class="note">Offline WeChat Pay simulator: no real money moves. 本页面由模拟器生成，不产生真实交易。</p>` +
    `<script>${SCRIPT}</script>`;
  return page('微信支付 WeChat Pay (simulated)', main, ` data-param="${escapeHtml(m.tokenParam)}" data-token="${escapeHtml(m.token)}"`);
}

/** An error page (unknown or expired link). */
export function renderCashierError(message: string): string {
  return page('微信支付 WeChat Pay (simulated)', `<h1>微信支付 WeChat Pay</h1><p id="sim-error">${escapeHtml(message)}</p>`);
}
