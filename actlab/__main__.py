from actlab.cli import main

raise SystemExit(main())
