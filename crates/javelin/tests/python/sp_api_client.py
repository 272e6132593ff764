#!/usr/bin/env python3
"""Drives python-amazon-sp-api (import name `sp_api`), a real SP-API client Javelin did not
write, against the Javelin sandbox: the LWA refresh-token exchange, every page of Orders
v2026-01-01 searchOrders, getOrder, and every page of FBA getInventorySummaries. Prints one
JSON line of what it saw; exits non-zero with a message on any failure.

Usage: sp_api_client.py SANDBOX_BASE_URL        (e.g. http://127.0.0.1:8001)
Credentials are read the library's own way, from LWA_APP_ID, LWA_CLIENT_SECRET and
SP_API_REFRESH_TOKEN (`javelin sandbox --print-credentials` prints the sandbox's). The
library paces pages by x-amzn-RateLimit-Limit: run the sandbox with `--time-scale 1000`, or
searchOrders goes at Amazon's real pace of one page every three minutes.

Only the endpoints are configured, through what sp_api 2.1.35 offers (read from its source):
- LWA: `AccessTokenClient` posts to its class attributes `scheme + host + path`, and every
  client takes `auth_token_client_class=`, so a subclass names the sandbox's token URL.
- SP-API: `Client.__init__` sets `self.endpoint = marketplace.endpoint` (there is no endpoint
  argument nor variable), so the attribute is set after construction; and `Client.headers`
  derives `host` as `endpoint[8:]` (the endpoint less "https://"), so that one header is
  given the sandbox's plain-HTTP host instead.
"""

import json
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

try:
    from sp_api.api import Inventories, OrdersV20260101
    from sp_api.auth import AccessTokenClient
    from sp_api.base import Marketplaces
    from sp_api.util import load_all_pages
except ImportError as error:
    sys.exit(f"sp_api_client: {error}: run `pip install python-amazon-sp-api`")

NORTH_AMERICA = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]


def clients(base):
    url = urlsplit(base)

    class SandboxLwa(AccessTokenClient):
        scheme, host, path = f"{url.scheme}://", url.netloc, "/amazon/auth/o2/token"

    class Sandboxed:
        def __init__(self):
            super().__init__(Marketplaces.US, auth_token_client_class=SandboxLwa)
            self.endpoint = f"{url.scheme}://{url.netloc}/amazon"

        @property
        def headers(self):
            return {**super().headers, "host": url.netloc}

    class Orders(Sandboxed, OrdersV20260101):
        pass

    class Inventory(Sandboxed, Inventories):
        pass

    return Orders(), Inventory()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run(base):
    orders, inventory = clients(base)

    token = orders.auth  # the LWA refresh-token exchange (cached for later calls)
    check(token.access_token and token.token_type.lower() == "bearer", f"LWA token: {vars(token)}")

    # Every page, with the library's own pagination: the same parameters plus paginationToken.
    created_after = (datetime.now(timezone.utc) - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    search = load_all_pages(next_token_param="paginationToken", use_rate_limit_header=True)(orders.search_orders)
    pages = list(search(createdAfter=created_after, marketplaceIds=NORTH_AMERICA))
    for page in pages:
        check(isinstance(page.orders, list), f"searchOrders page without orders: {page}")
        check(page.createdBefore == pages[0].createdBefore, "createdBefore changed between pages")
    order_ids = [order["orderId"] for page in pages for order in page.orders]
    check(order_ids, "searchOrders found no orders")

    asked = order_ids[len(order_ids) // 2]
    order = orders.get_order(asked).order
    check(isinstance(order, dict), f"getOrder without order: {order}")

    summaries = load_all_pages(next_token_param="nextToken", use_rate_limit_header=True)(
        inventory.get_inventory_summary_marketplace
    )
    inventory_pages = list(summaries(details=True))
    for page in inventory_pages:
        check(isinstance(page.payload.get("inventorySummaries"), list), f"inventory page: {page}")
    rows = [s for page in inventory_pages for s in page.payload["inventorySummaries"]]
    stock = [[s["sellerSku"], s["inventoryDetails"]["fulfillableQuantity"], s["totalQuantity"]] for s in rows]

    return {
        "token_type": token.token_type,
        "expires_in": token.expires_in,
        "order_pages": len(pages),
        "rate_limit": pages[0].rate_limit,
        "created_before": pages[0].createdBefore,
        "order_ids": order_ids,
        "asked_order": asked,
        "got_order": order.get("orderId"),
        "got_items": [item["orderItemId"] for item in order.get("orderItems", [])],
        "inventory_marketplace": inventory_pages[0].payload["granularity"]["granularityId"],
        "inventory_pages": len(inventory_pages),
        "inventory": stock,  # [sellerSku, fulfillable, total] of every summary
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SANDBOX_BASE_URL")
    try:
        summary = run(sys.argv[1])
    except Exception as error:  # noqa: BLE001 -- any failure is reported the same way
        sys.exit(f"sp_api_client: failed: {type(error).__name__}: {error}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
