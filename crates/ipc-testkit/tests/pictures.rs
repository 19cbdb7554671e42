//! Every handout shows the timeline of a real `--fast` run of its
//! experiment (issue 11): the picture is there, is a sequence diagram of
//! that experiment's processes, the book shows it too, and the one script
//! that draws them all knows the experiment.

mod common;

use common::{experiments, root};
use ipc_testkit::trace::svg_lanes;

#[test]
fn every_handout_shows_the_timeline_of_a_real_run() {
    let script = std::fs::read_to_string(root().join("scripts/trace-all.sh")).unwrap();
    for crate_name in experiments() {
        let dir = root().join("exercises").join(&crate_name);
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
        let picture = format!("{crate_name}.svg");
        assert!(
            readme.contains(&format!("]({picture})")),
            "{crate_name}'s handout does not show {picture}"
        );
        let svg = std::fs::read_to_string(dir.join(&picture)).unwrap_or_else(|e| {
            panic!("{crate_name}/{picture}: {e} (scripts/trace-all.sh draws it)")
        });
        let lanes = svg_lanes(&svg).unwrap_or_else(|e| panic!("{picture}: {e}"));
        assert!(
            lanes.len() >= 2,
            "{picture}: {} lane(s); a run of processes has several",
            lanes.len()
        );
        assert!(
            svg.contains(&format!("<title>{crate_name}")),
            "{picture} is not a run of {crate_name}"
        );
        // The book includes the handout from docs/experiments/: the same
        // picture must be found from there.
        let in_book = root().join("docs/experiments").join(&picture);
        assert_eq!(
            std::fs::read_to_string(&in_book).ok().as_deref(),
            Some(svg.as_str()),
            "docs/experiments/{picture} is not the handout's picture"
        );
        assert!(
            script.contains(&format!("\"{crate_name}|")),
            "scripts/trace-all.sh does not draw {crate_name}"
        );
    }
}
