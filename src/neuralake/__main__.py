from neuralake.cli import main

raise SystemExit(main())
