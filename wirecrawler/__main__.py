from wirecrawler.cli import main

raise SystemExit(main())
