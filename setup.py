"""The crawler as an egg for Scrapyd (deploy/README.md, "Under Scrapyd"); ``scrapyd-deploy`` builds it.

Only the ``wirecrawler`` package goes in: the tests, sites and benchmarks stay out, and the
dependencies are installed in Scrapyd's own environment (``make scrapyd``), not in the egg.
"""

from setuptools import find_packages, setup

setup(
    name="wirecrawler",
    version="1.0",
    packages=find_packages(include=["wirecrawler", "wirecrawler.*"]),
    # Scrapyd's runner reads the project's settings module from this entry point.
    entry_points={"scrapy": ["settings = wirecrawler.settings"]},
)
