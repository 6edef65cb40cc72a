"""wirecrawler: the Buitenland section of zeelandnet.nl as deduplicated JSON Lines feeds."""
