//! The opt-out list through `Core`: one entry per number whatever its format,
//! imports that report every line they could not use.

use std::sync::Arc;

use sendrow_core::compose::Country;
use sendrow_core::secrets::MemorySecrets;
use sendrow_core::Core;

fn core() -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Arc::new(MemorySecrets::new())).unwrap();
    (dir, core)
}

#[test]
fn formats_of_one_number_are_one_entry() {
    let (_dir, core) = core();
    let ua = Country::parse("UA").unwrap();
    let phone = core.add_optout("067 123 45 67", ua, Some("replied STOP")).unwrap();
    assert_eq!(phone.as_str(), "+380671234567", "stored in E.164");
    core.add_optout("+380 (67) 123-45-67", ua, None).unwrap();
    assert_eq!(core.optouts().unwrap().len(), 1, "the same number in another format is not a second entry");
    let err = core.add_optout("12", ua, None).unwrap_err();
    assert!(err.to_string().contains("not a usable phone number"), "a bad number is refused with a reason: {err}");
    assert!(core.remove_optout("0671234567", ua).unwrap(), "removal also normalizes");
    assert!(core.optouts().unwrap().is_empty(), "and the list is empty again");
}

#[test]
fn import_skips_the_header_reports_bad_lines_and_export_round_trips() {
    let (dir, core) = core();
    let ua = Country::parse("UA").unwrap();
    let file = dir.path().join("stop.csv");
    std::fs::write(
        &file,
        "Name;Телефон\nОлена;067 123 45 67\nIvan;not a number\n\nPetro;+380501112233\nOlena again;0671234567\n",
    )
    .unwrap();
    let report = core.import_optouts(&file, ua).unwrap();
    assert_eq!(report.added, 2, "two distinct good numbers: {report:?}");
    assert_eq!(report.refused.len(), 1, "one bad line is reported: {report:?}");
    assert_eq!(report.refused[0].0, 3, "by its line number in the file");

    let exported = core.export_optouts().unwrap();
    let other = dir.path().join("again.csv");
    std::fs::write(&other, &exported).unwrap();
    let (_dir2, fresh) = self::core();
    let again = fresh.import_optouts(&other, ua).unwrap();
    assert_eq!((again.added, again.refused.len()), (2, 0), "an export imports cleanly: {exported}");
}
