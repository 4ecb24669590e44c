"""Scenario 7: without privilege the exporter serves, says collector success 0, and logs CAP_SYS_ADMIN."""
from e2e import main


def check(c):
    scrape = c.scrape("unprivileged")
    log = (c.run / "results" / "exporter.log").read_text()
    c.remember("scrape 'unprivileged'", scrape.text)
    c.remember("exporter log", log)
    for col in ("thinpool", "thin"):
        c.eq(f'thinpool_scrape_collector_success{{collector="{col}"}}',
             scrape.value("thinpool_scrape_collector_success", collector=col), 0.0)
    c.eq("pools exported without privilege (thinpool_info)", scrape.series("thinpool_info"), [])
    c.true("thinpool_exporter_build_info is served", bool(scrape.series("thinpool_exporter_build_info")))
    c.true("the log mentions CAP_SYS_ADMIN", "CAP_SYS_ADMIN" in log)
    ps = (c.run / "results" / "ps.txt").read_text()
    c.remember("ps in the guest", ps)
    c.true("the exporter ran as nobody", any("nobody" in l and "thinpool_exporter" in l for l in ps.splitlines()))
    c.true("the landing page is served", (c.run / "scrapes" / "landing.prom").stat().st_size > 0)


main(check)
