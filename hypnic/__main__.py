from hypnic.cli import main

raise SystemExit(main())
