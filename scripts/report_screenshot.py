"""Render the HTML report of a bundled data set in headless Chromium; save a screenshot.

Uses Debian's Chromium (``apt-get install chromium``) through Playwright
(``pip install -e ".[test]"``; no ``playwright install`` needed)::

    python scripts/report_screenshot.py                        # rats -> out/report_rats.png
    python scripts/report_screenshot.py --dataset pumps -o pumps.png --html pumps.html

Prints the console errors of the page, if any, and exits with 1 when there were.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def screenshot(html: Path, png: Path, *, width: int = 1280, full_page: bool = True) -> list[str]:
    """Open ``html`` in headless Chromium, write ``png``; return the console errors."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.resolve().as_uri(), wait_until="load")
        page.screenshot(path=str(png), full_page=full_page)
        browser.close()
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="rats", help="bundled data set (default rats)")
    parser.add_argument("-o", "--output",
                        help="PNG to write (default out/report_<dataset>.png, untracked)")
    parser.add_argument("--html", help="also keep the HTML report here")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in pixels")
    args = parser.parse_args(argv)

    import hierbayes as hb
    from hierbayes.families.registry import family_of_dataset
    from hierbayes.output.report import write_report

    info = family_of_dataset(hb.datasets.DATASETS[args.dataset].family)
    model = getattr(hb, info.model)()
    fit = model.fit(hb.datasets.load(args.dataset))
    png = Path(args.output or Path("out") / f"report_{args.dataset}.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(args.html) if args.html else Path(tmp) / "report.html"
        write_report(fit, html, data_name=args.dataset)
        errors = screenshot(html, png, width=args.width)
    for e in errors:
        print(f"console error: {e}", file=sys.stderr)
    print(f"wrote {png}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
