//! Merging PDFs with lopdf 0.47 (PDF-NOTES, lopdf 1-4).
//!
//! lopdf has no merge API. [`Merger::import`] copies into the output only the objects a
//! document's pages reach (so no input's `/Info`, catalog, outlines, object streams or xref
//! streams survive as orphans), gives them fresh numbers past the last, turns references to the
//! old catalog and page-tree nodes (and dangling ones) into `null`, and lifts inherited
//! `MediaBox`, `CropBox`, `Resources` and `Rotate` onto each page. [`Merger::finish`] then builds
//! one page tree, the outline (after all numbering is final) and the catalog.
//!
//! The output is written as it is assembled (PDF-NOTES, lopdf 4: a lopdf document holds
//! everything until it is saved, several times the output in memory): every imported object goes
//! to the writer at once, pages with their `/Parent` (the page tree's number is reserved first);
//! `finish` writes the page tree, outline, catalog and cross-reference table. Memory is then
//! about one input document plus the page order and object offsets, whatever the output's size.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Write};

use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};

use crate::error::Unreadable;
use crate::stamp::Stamp;

/// Attributes a page inherits from its ancestors in the page tree.
const INHERITED: [&[u8]; 4] = [b"MediaBox", b"CropBox", b"Resources", b"Rotate"];

/// Read `bytes` as an unencrypted PDF with at least one page whose media box resolves.
pub(crate) fn load(bytes: &[u8]) -> Result<Document, Unreadable> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(Unreadable::NotPdf);
    }
    let declares_encryption = || bytes.windows(8).any(|w| w == b"/Encrypt");
    let doc = match Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(_) if declares_encryption() => return Err(Unreadable::Encrypted),
        Err(e) => return Err(Unreadable::Corrupt { message: e.to_string() }),
    };
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        return Err(Unreadable::Encrypted);
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(Unreadable::NoPages);
    }
    for (n, id) in pages {
        let media_box = inherited(&doc, id, b"MediaBox").map_err(|message| Unreadable::Corrupt { message })?;
        let ok = match media_box.as_ref().map(|o| doc.dereference(o)) {
            Some(Ok((_, Object::Array(a)))) => a.len() == 4 && a.iter().all(|v| v.as_float().is_ok()),
            _ => false,
        };
        if !ok {
            return Err(Unreadable::Corrupt { message: format!("page {n} has no valid MediaBox") });
        }
    }
    Ok(doc)
}

/// The value of `key` on the page or the nearest ancestor that has it.
fn inherited(doc: &Document, page: ObjectId, key: &[u8]) -> Result<Option<Object>, String> {
    let mut current = page;
    let mut seen = HashSet::new();
    loop {
        if !seen.insert(current) {
            return Err(format!("the page tree has a cycle at object {} {}", current.0, current.1));
        }
        let node = doc.get_dictionary(current).map_err(|e| e.to_string())?;
        if let Ok(value) = node.get(key) {
            if !matches!(doc.dereference(value), Ok((_, Object::Null)) | Err(_)) {
                return Ok(Some(value.clone()));
            }
        }
        match node.get(b"Parent").and_then(Object::as_reference) {
            Ok(parent) => current = parent,
            Err(_) => return Ok(None),
        }
    }
}

/// Rewrite every reference in `object`: mapped ones to their new id, all others to `null`.
fn rewrite(object: &mut Object, map: &HashMap<ObjectId, ObjectId>) {
    match object {
        Object::Reference(id) => {
            *object = match map.get(id) {
                Some(new) => Object::Reference(*new),
                None => Object::Null,
            }
        }
        Object::Array(items) => items.iter_mut().for_each(|o| rewrite(o, map)),
        Object::Dictionary(dict) => dict.iter_mut().for_each(|(_, o)| rewrite(o, map)),
        Object::Stream(stream) => stream.dict.iter_mut().for_each(|(_, o)| rewrite(o, map)),
        _ => {}
    }
}

/// Collect the references of `object` into `out`.
fn references(object: &Object, out: &mut Vec<ObjectId>) {
    match object {
        Object::Reference(id) => out.push(*id),
        Object::Array(items) => items.iter().for_each(|o| references(o, out)),
        Object::Dictionary(dict) => dict.iter().for_each(|(_, o)| references(o, out)),
        Object::Stream(stream) => stream.dict.iter().for_each(|(_, o)| references(o, out)),
        _ => {}
    }
}

/// A PDF text string: UTF-16BE with a byte-order mark.
pub(crate) fn text_string(text: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

/// One bookmark: a title, the page it opens (an object id of the output), its children.
#[derive(Debug, Clone)]
pub(crate) struct Bookmark {
    pub(crate) title: String,
    pub(crate) page: ObjectId,
    pub(crate) children: Vec<Bookmark>,
}

/// A writer that counts the bytes written.
struct Counting<W: Write> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The output document being assembled and written.
pub(crate) struct Merger<W: Write> {
    out: Counting<W>,
    /// Byte offset of object `i + 1` (0: not written yet).
    offsets: Vec<u64>,
    pages_id: ObjectId,
    kids: Vec<ObjectId>,
    /// The first write error; reported by `finish`.
    error: Option<io::Error>,
}

impl<W: Write> Merger<W> {
    pub(crate) fn new(out: W) -> Merger<W> {
        let mut merger = Merger {
            out: Counting { inner: out, written: 0 },
            offsets: Vec::new(),
            pages_id: (0, 0),
            kids: Vec::new(),
            error: None,
        };
        merger.try_io(|out| out.write_all(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"));
        merger.pages_id = merger.new_id();
        merger
    }

    fn try_io(&mut self, f: impl FnOnce(&mut Counting<W>) -> io::Result<()>) {
        if self.error.is_none() {
            if let Err(e) = f(&mut self.out) {
                self.error = Some(e);
            }
        }
    }

    fn new_id(&mut self) -> ObjectId {
        self.offsets.push(0);
        (self.offsets.len() as u32, 0)
    }

    /// Write object `id`.
    fn emit(&mut self, id: ObjectId, object: &Object) {
        if let Some(slot) = self.offsets.get_mut((id.0 as usize).wrapping_sub(1)) {
            *slot = self.out.written;
        }
        self.try_io(|out| {
            writeln!(out, "{} 0 obj", id.0)?;
            lopdf::Writer::write_object(out, object).map_err(io::Error::other)?;
            out.write_all(b"\nendobj\n")
        });
    }

    /// Copy the objects `doc`'s pages reach into the output; returns the new ids of its pages in
    /// order. The pages are not yet placed: pass them to [`Merger::place`].
    pub(crate) fn import(&mut self, mut doc: Document) -> Result<Vec<ObjectId>, String> {
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        // Lift inherited attributes onto every page before the tree is dropped.
        let mut lifted = Vec::with_capacity(pages.len());
        for &page in &pages {
            let mut values = Vec::new();
            for key in INHERITED {
                if let Some(v) = inherited(&doc, page, key)? {
                    values.push((key, v));
                }
            }
            lifted.push(values);
        }
        for (&page, values) in pages.iter().zip(lifted) {
            let dict = doc.get_dictionary_mut(page).map_err(|e| e.to_string())?;
            for (key, value) in values {
                dict.set(key.to_vec(), value);
            }
            dict.remove(b"Parent");
        }
        // What the pages reach, never passing through the catalog or the page tree.
        let mut excluded: HashSet<ObjectId> = HashSet::new();
        if let Ok(root) = doc.trailer.get(b"Root").and_then(Object::as_reference) {
            excluded.insert(root);
        }
        for (id, object) in &doc.objects {
            if matches!(object.type_name(), Ok(b"Pages") | Ok(b"Catalog") | Ok(b"Outlines")) {
                excluded.insert(*id);
            }
        }
        let mut reached: HashSet<ObjectId> = HashSet::new();
        let mut queue: VecDeque<ObjectId> = pages.iter().copied().collect();
        let mut refs = Vec::new();
        while let Some(id) = queue.pop_front() {
            if excluded.contains(&id) || !reached.insert(id) {
                continue;
            }
            let Some(object) = doc.objects.get(&id) else {
                reached.remove(&id);
                continue;
            };
            refs.clear();
            references(object, &mut refs);
            queue.extend(refs.iter().copied().filter(|r| !reached.contains(r)));
        }
        let mut ids: Vec<ObjectId> = reached.into_iter().collect();
        ids.sort_unstable();
        let map: HashMap<ObjectId, ObjectId> = ids.iter().map(|id| (*id, self.new_id())).collect();
        let page_set: HashSet<ObjectId> = pages.iter().copied().collect();
        for id in &ids {
            if let (Some(mut object), Some(new)) = (doc.objects.remove(id), map.get(id).copied()) {
                rewrite(&mut object, &map);
                if let Object::Stream(stream) = &mut object {
                    // A direct, exact length, whatever the input said.
                    stream.dict.set("Length", stream.content.len() as i64);
                }
                if let Object::Dictionary(dict) = &mut object {
                    if page_set.contains(id) {
                        dict.set("Parent", Object::Reference(self.pages_id));
                    }
                }
                self.emit(new, &object);
            }
        }
        pages.iter().map(|p| map.get(p).copied().ok_or_else(|| "a page object is missing".to_string())).collect()
    }

    /// Append imported pages to the output's page order.
    pub(crate) fn place(&mut self, pages: &[ObjectId]) {
        self.kids.extend_from_slice(pages);
    }

    /// How many pages are placed so far.
    pub(crate) fn placed(&self) -> usize {
        self.kids.len()
    }

    /// Write the page tree, outline, catalog, `/Info`, cross-reference table and trailer
    /// (`/ID` from the stamp); returns the writer and the size written.
    pub(crate) fn finish(mut self, outline: &[Bookmark], stamp: &Stamp, title: &str) -> io::Result<(W, u64)> {
        let mut tree = Dictionary::new();
        tree.set("Type", "Pages");
        tree.set("Count", self.kids.len() as i64);
        tree.set("Kids", self.kids.iter().map(|k| Object::Reference(*k)).collect::<Vec<_>>());
        self.emit(self.pages_id, &Object::Dictionary(tree));

        let mut catalog = Dictionary::new();
        catalog.set("Type", "Catalog");
        catalog.set("Pages", Object::Reference(self.pages_id));
        if !outline.is_empty() {
            let outlines_id = self.new_id();
            let (first, last, count) = self.outline(outline, outlines_id);
            let mut dict = Dictionary::new();
            dict.set("Type", "Outlines");
            dict.set("First", Object::Reference(first));
            dict.set("Last", Object::Reference(last));
            dict.set("Count", count);
            self.emit(outlines_id, &Object::Dictionary(dict));
            catalog.set("Outlines", Object::Reference(outlines_id));
            catalog.set("PageMode", "UseOutlines");
        }
        let catalog_id = self.new_id();
        self.emit(catalog_id, &Object::Dictionary(catalog));

        let date = Object::String(stamp.pdf_date_string().into_bytes(), StringFormat::Literal);
        let mut info = Dictionary::new();
        info.set("Title", text_string(title));
        info.set("Producer", text_string("invoice-engine (invoice-pdf)"));
        info.set("Creator", text_string("invoice-engine"));
        info.set("CreationDate", date.clone());
        info.set("ModDate", date);
        let info_id = self.new_id();
        self.emit(info_id, &Object::Dictionary(info));

        let mut trailer = Dictionary::new();
        trailer.set("Size", self.offsets.len() as i64 + 1);
        trailer.set("Root", Object::Reference(catalog_id));
        trailer.set("Info", Object::Reference(info_id));
        let id = Object::String(stamp.id.0.to_vec(), StringFormat::Hexadecimal);
        trailer.set("ID", vec![id.clone(), id]);
        let xref = self.out.written;
        let offsets = std::mem::take(&mut self.offsets);
        self.try_io(|out| {
            write!(out, "xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1)?;
            for off in &offsets {
                writeln!(out, "{off:010} 00000 n ")?;
            }
            out.write_all(b"trailer\n")?;
            lopdf::Writer::write_object(out, &Object::Dictionary(trailer)).map_err(io::Error::other)?;
            write!(out, "\nstartxref\n{xref}\n%%EOF\n")?;
            out.flush()
        });
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.out.inner, self.out.written)),
        }
    }

    /// Write the outline items of `items` (siblings under `parent`); returns first, last and the
    /// number of visible items (every level open).
    fn outline(&mut self, items: &[Bookmark], parent: ObjectId) -> (ObjectId, ObjectId, i64) {
        let ids: Vec<ObjectId> = items.iter().map(|_| self.new_id()).collect();
        let mut visible = 0i64;
        for (i, (item, id)) in items.iter().zip(&ids).enumerate() {
            let mut dict = Dictionary::new();
            dict.set("Title", text_string(&item.title));
            dict.set("Parent", Object::Reference(parent));
            dict.set("Dest", vec![Object::Reference(item.page), "Fit".into()]);
            if i > 0 {
                dict.set("Prev", Object::Reference(ids[i - 1]));
            }
            if let Some(next) = ids.get(i + 1) {
                dict.set("Next", Object::Reference(*next));
            }
            visible += 1;
            if !item.children.is_empty() {
                let (first, last, count) = self.outline(&item.children, *id);
                dict.set("First", Object::Reference(first));
                dict.set("Last", Object::Reference(last));
                dict.set("Count", count);
                visible += count;
            }
            self.emit(*id, &Object::Dictionary(dict));
        }
        // `items` is never empty here: callers only recurse on non-empty lists.
        let first = ids.first().copied().unwrap_or(parent);
        let last = ids.last().copied().unwrap_or(parent);
        (first, last, visible)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_pdf_is_named() {
        assert_eq!(load(b"hello").unwrap_err(), Unreadable::NotPdf);
        assert!(matches!(load(b"%PDF-1.4\ngarbage").unwrap_err(), Unreadable::Corrupt { .. } | Unreadable::NoPages));
    }

    #[test]
    fn text_strings_are_utf16_with_bom() {
        match text_string("Ж") {
            Object::String(b, _) => assert_eq!(b, vec![0xFE, 0xFF, 0x04, 0x16]),
            _ => panic!(),
        }
    }
}
