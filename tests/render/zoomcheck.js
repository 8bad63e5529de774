// Drives the report's inline zoom in headless Chromium (tests/render/run.sh): a drag selection
// around the first retransmission's R mark of the first time-sequence graph must zoom the view
// (a smaller viewBox, centred on the selection), say the new range in the readout, keep every
// R mark in the DOM and the selected one visible and on top; a double-click must reset.
// Writes "zcheck ok" or "zcheck fail: why" into a <pre id="zcheck">.
(function () {
	var why = [];
	var ax = document.querySelector('svg.zoom g.zaxes[data-y]');
	var s = ax && ax.ownerSVGElement;
	if (!s) why.push('no time-sequence graph with axes');
	var ms = s ? s.querySelectorAll('text.rmark') : [];
	if (s && !ms.length) why.push('no R mark');
	if (!why.length) {
		var vb = s.viewBox.baseVal, w0 = vb.width, h0 = vb.height, m = ms[0];
		s.scrollIntoView({block: 'center'});
		var r = m.getBoundingClientRect(), cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2;
		var ev = function (type, x, y, target) {
			(target || s).dispatchEvent(new MouseEvent(type, {clientX: x, clientY: y,
				bubbles: true, cancelable: true, button: 0, view: window}));
		};
		ev('mousedown', cx - 60, cy - 40);
		ev('mousemove', cx + 60, cy + 40);
		if (!s.querySelector('rect.zsel')) why.push('no selection rectangle while dragging');
		ev('mouseup', cx + 60, cy + 40, window);
		if (s.querySelector('rect.zsel')) why.push('selection rectangle left behind');
		if (!(vb.width < w0 / 3 && vb.height < h0 / 3))
			why.push('viewBox not zoomed: ' + vb.width + 'x' + vb.height);
		if (Math.abs(vb.width / vb.height - w0 / h0) > 1e-6) why.push('aspect changed');
		var ro = s.querySelector('text.zoomrange'), txt = ro ? ro.textContent : '';
		var t = /^zoom: time ([0-9.e+-]+)\u2013([0-9.e+-]+) (\S+), seq (-?\d+)\u2013(-?\d+) B/.exec(txt);
		var T = ax.getAttribute('data-t').split(' ').map(Number);
		var full = (T[1] - T[0]) / T[2];
		if (!t) why.push('readout: "' + txt + '"');
		else if (!(+t[2] > +t[1] && +t[2] - +t[1] < full / 3 && t[3] === ax.getAttribute('data-unit')))
			why.push('readout range: ' + txt + ' (full span ' + full + ')');
		if (s.querySelectorAll('text.rmark').length !== ms.length) why.push('R marks lost');
		var r2 = m.getBoundingClientRect(), sr = s.getBoundingClientRect();
		var x2 = (r2.left + r2.right) / 2, y2 = (r2.top + r2.bottom) / 2;
		var e = document.elementFromPoint(x2, y2);
		if (!(x2 > sr.left && x2 < sr.right && y2 > sr.top && y2 < sr.bottom && (e === m || m.contains(e))))
			why.push('the selected R mark is not visible after the zoom');
		if (!(r2.height > r.height * 2)) why.push('the R mark did not grow with the zoom');
		s.dispatchEvent(new MouseEvent('dblclick', {bubbles: true, view: window}));
		if (vb.width !== w0 || vb.height !== h0 || vb.x !== 0 || vb.y !== 0)
			why.push('double-click did not reset');
		if (ro && ro.textContent !== '') why.push('readout left after the reset');
	}
	var p = document.createElement('pre');
	p.id = 'zcheck';
	p.textContent = why.length ? 'zcheck fail: ' + why.join('; ') : 'zcheck ok ' + ms.length;
	document.body.appendChild(p);
})();
